/*
 * Hand-written C baselines for `lossc bench closures` (see CLossBench.h). Written the way a
 * careful C programmer would, without -ffast-math: per block, a loop that computes each
 * sample's loss and gradient (vectorizable: straight-line math, selects), then a sum with
 * explicit lane accumulators (a plain `sum +=` would forbid vectorizing the loop).
 */
#include "CLossBench.h"
#include "lossc_math.h"
#include <math.h>

enum { BLOCK = 1024, LANES = 8 };

/* Sum with LANES independent accumulators: the order is explicit, so it vectorizes. */
static double lane_sum(const float *p, long n)
{
    float acc[LANES] = {0};
    long i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += p[i + j];
    double s = 0;
    for (; i < n; i++) s += p[i];
    for (int j = 0; j < LANES; j++) s += acc[j];
    return s;
}

/* ---- focal, gamma = 2 ------------------------------------------------------------- */
/* p = sigmoid(x), q = 1 - p = sigmoid(-x), sp(+-x) = softplus(+-x) = -log(q), -log(p):
   loss = y a q^2 sp(-x) + (1-y)(1-a) p^2 sp(x)
   d/dx = y a (-2 p q^2 sp(-x) - q^3) + (1-y)(1-a) (2 p^2 q sp(x) + p^3) */
#define FOCAL_BODY(EXP, LOG1P)                                                             \
    float xi = x[i], yi = y[i];                                                            \
    float e = EXP(-fabsf(xi));                 /* exp(-|x|): one exp for p, q, sp(+-x) */  \
    float l = LOG1P(e);                                                                    \
    float r = 1.0f / (1.0f + e);                                                           \
    float p = xi >= 0 ? r : e * r, q = xi >= 0 ? e * r : r;                                \
    float spx = (xi > 0 ? xi : 0.0f) + l, spn = (xi < 0 ? -xi : 0.0f) + l;                 \
    float wp = yi * alpha, wn = (1.0f - yi) * (1.0f - alpha);                              \
    buf[i - b] = wp * q * q * spn + wn * p * p * spx;                                      \
    if (grad) grad[i] = wp * (-2.0f * p * q * q * spn - q * q * q) + wn * (2.0f * p * p * q * spx + p * p * p);

double lossc_bench_focal_vec(const float *x, const float *y, float *grad, long n, float alpha)
{
    float buf[BLOCK];
    double s = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long m = n - b < BLOCK ? n - b : BLOCK;
        for (long i = b; i < b + m; i++) { FOCAL_BODY(lossc_expf, lossc_log1pf) }
        s += lane_sum(buf, m);
    }
    return s;
}

double lossc_bench_focal_libm(const float *x, const float *y, float *grad, long n, float alpha)
{
    float buf[BLOCK];
    double s = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long m = n - b < BLOCK ? n - b : BLOCK;
        for (long i = b; i < b + m; i++) { FOCAL_BODY(expf, log1pf) }
        s += lane_sum(buf, m);
    }
    return s;
}

/* ---- BCE on logits ---------------------------------------------------------------- */
/* loss = y sp(-x) + (1-y) sp(x), d/dx = sigmoid(x) - y */
#define BCE_BODY(EXP, LOG1P)                                                               \
    float xi = x[i], yi = y[i];                                                            \
    float e = EXP(-fabsf(xi));                                                             \
    float l = LOG1P(e);                                                                    \
    float r = 1.0f / (1.0f + e);                                                           \
    float p = xi >= 0 ? r : e * r;                                                         \
    float spx = (xi > 0 ? xi : 0.0f) + l, spn = (xi < 0 ? -xi : 0.0f) + l;                 \
    buf[i - b] = yi * spn + (1.0f - yi) * spx;                                             \
    if (grad) grad[i] = p - yi;

double lossc_bench_bce_vec(const float *x, const float *y, float *grad, long n)
{
    float buf[BLOCK];
    double s = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long m = n - b < BLOCK ? n - b : BLOCK;
        for (long i = b; i < b + m; i++) { BCE_BODY(lossc_expf, lossc_log1pf) }
        s += lane_sum(buf, m);
    }
    return s;
}

double lossc_bench_bce_libm(const float *x, const float *y, float *grad, long n)
{
    float buf[BLOCK];
    double s = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long m = n - b < BLOCK ? n - b : BLOCK;
        for (long i = b; i < b + m; i++) { BCE_BODY(expf, log1pf) }
        s += lane_sum(buf, m);
    }
    return s;
}

/* ---- softmax cross-entropy -------------------------------------------------------- */
/* per row: m = max x, t = x - m, s = sum exp(t), loss = -sum y (t - log s),
   d/dx_k = softmax_k * sum(y) - y_k */
#define CE_ROW(EXP, SUM)                                                                   \
    const float *xr = x + r * classes, *yr = y + r * classes;                              \
    float m = xr[0];                                                                       \
    for (long k = 1; k < classes; k++) m = xr[k] > m ? xr[k] : m;                          \
    for (long k = 0; k < classes; k++) e[k] = EXP(xr[k] - m);                              \
    float s = (float)SUM(e, classes);                                                      \
    float ls = logf(s);                                                                    \
    for (long k = 0; k < classes; k++) t[k] = yr[k] * (xr[k] - m - ls);                    \
    total -= SUM(t, classes);                                                              \
    if (grad) {                                                                            \
        float sy = (float)SUM(yr, classes), inv = sy / s;                                  \
        float *gr = grad + r * classes;                                                    \
        for (long k = 0; k < classes; k++) gr[k] = e[k] * inv - yr[k];                     \
    }

static double seq_sum(const float *p, long n)
{
    float s = 0;
    for (long i = 0; i < n; i++) s += p[i];
    return s;
}

double lossc_bench_ce_vec(const float *x, const float *y, float *grad, long rows, long classes)
{
    float e[BLOCK], t[BLOCK];
    if (classes > BLOCK) return NAN;
    double total = 0;
    for (long r = 0; r < rows; r++) { CE_ROW(lossc_expf, lane_sum) }
    return total;
}

double lossc_bench_ce_libm(const float *x, const float *y, float *grad, long rows, long classes)
{
    float e[BLOCK], t[BLOCK];
    if (classes > BLOCK) return NAN;
    double total = 0;
    for (long r = 0; r < rows; r++) { CE_ROW(expf, seq_sum) }
    return total;
}

/* ---- GIoU ------------------------------------------------------------------------- */
/* loss = 1 - (i/u - (e - u)/e) = 2 - i/u - u/e with i, u, e as the published code computes
   them (+1e-7 on u and e); the gradient by the chain rule through each clamp and min/max. */
double lossc_bench_giou(const float *pred, const float *target, float *grad, long n)
{
    float buf[BLOCK];
    double s = 0;
    for (long b = 0; b < n; b += BLOCK) {
        long m = n - b < BLOCK ? n - b : BLOCK;
        for (long j = b; j < b + m; j++) {
            const float *p = pred + 4 * j, *q = target + 4 * j;
            float x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
            float tx1 = q[0], ty1 = q[1], tx2 = q[2], ty2 = q[3];
            float iwr = (x2 < tx2 ? x2 : tx2) - (x1 > tx1 ? x1 : tx1);
            float ihr = (y2 < ty2 ? y2 : ty2) - (y1 > ty1 ? y1 : ty1);
            float iw = iwr > 0 ? iwr : 0, ih = ihr > 0 ? ihr : 0;
            float i = iw * ih;
            float pw = x2 - x1, ph = y2 - y1;
            float u = pw * ph + (tx2 - tx1) * (ty2 - ty1) - i + 1e-7f;
            float ewr = (x2 > tx2 ? x2 : tx2) - (x1 < tx1 ? x1 : tx1);
            float ehr = (y2 > ty2 ? y2 : ty2) - (y1 < ty1 ? y1 : ty1);
            float ew = ewr > 0 ? ewr : 0, eh = ehr > 0 ? ehr : 0;
            float e = ew * eh + 1e-7f;
            buf[j - b] = 2.0f - i / u - u / e;
            if (grad) {
                /* dL = -(di u - i du)/u^2 - (du e - u de)/e^2 = a di + c du + d de */
                float a = -1.0f / u, c = i / (u * u) - 1.0f / e, d = u / (e * e);
                float iwg = iwr > 0 ? 1.0f : 0.0f, ihg = ihr > 0 ? 1.0f : 0.0f;
                float ewg = ewr > 0 ? 1.0f : 0.0f, ehg = ehr > 0 ? 1.0f : 0.0f;
                float di_x1 = -(tx1 > x1 ? 0.0f : 1.0f) * iwg * ih, di_x2 = (tx2 < x2 ? 0.0f : 1.0f) * iwg * ih;
                float di_y1 = -(ty1 > y1 ? 0.0f : 1.0f) * ihg * iw, di_y2 = (ty2 < y2 ? 0.0f : 1.0f) * ihg * iw;
                float de_x1 = -(tx1 < x1 ? 0.0f : 1.0f) * ewg * eh, de_x2 = (tx2 > x2 ? 0.0f : 1.0f) * ewg * eh;
                float de_y1 = -(ty1 < y1 ? 0.0f : 1.0f) * ehg * ew, de_y2 = (ty2 > y2 ? 0.0f : 1.0f) * ehg * ew;
                float *g = grad + 4 * j;
                g[0] = a * di_x1 + c * (-ph - di_x1) + d * de_x1;
                g[1] = a * di_y1 + c * (-pw - di_y1) + d * de_y1;
                g[2] = a * di_x2 + c * (ph - di_x2) + d * de_x2;
                g[3] = a * di_y2 + c * (pw - di_y2) + d * de_y2;
            }
        }
        s += lane_sum(buf, m);
    }
    return s;
}
