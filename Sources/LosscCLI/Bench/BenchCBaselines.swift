/// Hand-written C loops of the four benchmark losses, the baselines `lossc bench c` measures
/// the emitted kernels against. Plain good C, as an engineer would write it for a trainer: the
/// gradient derived by hand, the stable forms (one exp and one log1p per element for focal
/// loss and BCE), gamma = 2 specialized as `q * q`, and the loop written to vectorize: blocks
/// of 256 elements whose losses are summed in 8 double lanes (a plain `sum += l` is a
/// sequential reduction that no compiler may vectorize without -ffast-math).
///
/// The text is instantiated twice: `hand_libm_*` calls the C library (`expf`, `log1pf`,
/// `logf`; these vectorize only where the compiler has a vector math library, e.g. clang
/// `-fveclib=libmvec` for expf/logf, and none has log1pf), and `hand_vec_*` calls lossc's
/// branch-free `lossc_expf`/`lossc_log1pf`/`lossc_logf`: the best hand-written vectorized C.
/// Same contract as the emitted kernels: per-element loss and gradient out, the sum returned.
enum BenchCBaselines {
    /// Both instantiations.
    static var source: String {
        template.replacingOccurrences(of: "hand_", with: "hand_libm_")
            .replacingOccurrences(of: "EXPF(", with: "expf(").replacingOccurrences(of: "LOG1PF(", with: "log1pf(")
            .replacingOccurrences(of: "LOGF(", with: "logf(")
        + template.replacingOccurrences(of: "hand_", with: "hand_vec_")
            .replacingOccurrences(of: "EXPF(", with: "lossc_expf(").replacingOccurrences(of: "LOG1PF(", with: "lossc_log1pf(")
            .replacingOccurrences(of: "LOGF(", with: "lossc_logf(")
    }

    static let template = #"""
/* ==== hand-written baseline ==== */
#define HAND_BLOCK 256
/* max/min as ?: of two plain values, which gcc and clang both turn into vector max/min or a
   blend. fmaxf/fminf vectorize under clang only: gcc (without -ffinite-math-only) keeps them
   as libm calls, and one such call left the whole gcc loop scalar, 15-20x slower. */
#define HAND_MAX(a, b) ((a) > (b) ? (a) : (b))
#define HAND_MIN(a, b) ((a) < (b) ? (a) : (b))
static void hand_lanes(double acc[8], const float *v, size_t m)
{
    size_t j = 0, l;
    for (; j + 8 <= m; j += 8)
        for (l = 0; l < 8; l++) acc[l] += (double)v[j + l];
    for (l = 0; j + l < m; l++) acc[l] += (double)v[j + l];
}
static double hand_total(const double acc[8])
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* Focal loss (Lin et al. 2017), gamma = 2: with p = sigmoid(x), q = 1 - p,
   L = -y a q^2 log p - (1 - y)(1 - a) p^2 log q,
   dL/dx = y a q^2 (2 p log p - q) + (1 - y)(1 - a) p^2 (p - 2 q log q). */
static void hand_focal_block(size_t m, const float *restrict x, const float *restrict y, float alpha,
                             float *restrict loss, float *restrict grad)
{
    size_t i;
    for (i = 0; i < m; i++) {
        const float xi = x[i], yi = y[i];
        const float e = EXPF(-fabsf(xi));          /* exp(-|x|) in (0, 1] */
        const float l1p = LOG1PF(e);
        const float r = 1.0f / (1.0f + e);
        const float p = xi >= 0.0f ? r : e * r;    /* sigmoid(x) */
        const float q = xi >= 0.0f ? e * r : r;    /* sigmoid(-x) = 1 - p */
        const float logp = -(HAND_MAX(-xi, 0.0f) + l1p);
        const float logq = -(HAND_MAX(xi, 0.0f) + l1p);
        const float pos = alpha * q * q, neg = (1.0f - alpha) * p * p;
        loss[i] = -yi * pos * logp - (1.0f - yi) * neg * logq;
        grad[i] = yi * pos * (2.0f * p * logp - q) + (1.0f - yi) * neg * (p - 2.0f * q * logq);
    }
}
double hand_focal(size_t n, const float *x, const float *y, float alpha, float *loss, float *grad)
{
    double acc[8] = { 0 };
    size_t i;
    for (i = 0; i < n; i += HAND_BLOCK) {
        const size_t m = n - i < HAND_BLOCK ? n - i : HAND_BLOCK;
        hand_focal_block(m, x + i, y + i, alpha, loss + i, grad + i);
        hand_lanes(acc, loss + i, m);
    }
    return hand_total(acc);
}

/* Binary cross-entropy on a logit: L = max(x, 0) - x y + log1p(exp(-|x|)), dL/dx = sigmoid(x) - y. */
static void hand_bce_block(size_t m, const float *restrict x, const float *restrict y,
                           float *restrict loss, float *restrict grad)
{
    size_t i;
    for (i = 0; i < m; i++) {
        const float xi = x[i], yi = y[i];
        const float e = EXPF(-fabsf(xi));
        const float r = 1.0f / (1.0f + e);
        const float p = xi >= 0.0f ? r : e * r;
        loss[i] = HAND_MAX(xi, 0.0f) - xi * yi + LOG1PF(e);
        grad[i] = p - yi;
    }
}
double hand_bce(size_t n, const float *x, const float *y, float *loss, float *grad)
{
    double acc[8] = { 0 };
    size_t i;
    for (i = 0; i < n; i += HAND_BLOCK) {
        const size_t m = n - i < HAND_BLOCK ? n - i : HAND_BLOCK;
        hand_bce_block(m, x + i, y + i, loss + i, grad + i);
        hand_lanes(acc, loss + i, m);
    }
    return hand_total(acc);
}

/* Softmax cross-entropy over C classes, rows of x and of labels y (one-hot, or any soft
   labels: the same function as the emitted kernel): with lse = log sum exp(x) and sy = sum y,
   L = lse sy - <y, x>, dL/dx_k = softmax(x)_k sy - y_k. The exponentials go to the gradient
   row, then the sums run over it in 8 lanes. */
double hand_ce(size_t n, size_t C, const float *restrict x, const float *restrict y,
               float *restrict loss, float *restrict grad)
{
    double total[8] = { 0 };
    size_t r, k, l;
    for (r = 0; r < n; r++) {
        const float *xr = x + r * C, *yr = y + r * C;
        float *gr = grad + r * C;
        float mx[8], s8[8] = { 0 }, d8[8] = { 0 }, y8[8] = { 0 };
        for (l = 0; l < 8; l++) mx[l] = -INFINITY;
        for (k = 0; k + 8 <= C; k += 8)
            for (l = 0; l < 8; l++) mx[l] = xr[k + l] > mx[l] ? xr[k + l] : mx[l];
        for (l = 0; k + l < C; l++) mx[l] = xr[k + l] > mx[l] ? xr[k + l] : mx[l];
        float m = mx[0];
        for (l = 1; l < 8; l++) m = mx[l] > m ? mx[l] : m;
        for (k = 0; k < C; k++) gr[k] = EXPF(xr[k] - m);
        for (k = 0; k + 8 <= C; k += 8)
            for (l = 0; l < 8; l++) { s8[l] += gr[k + l]; d8[l] += yr[k + l] * xr[k + l]; y8[l] += yr[k + l]; }
        for (l = 0; k + l < C; l++) { s8[l] += gr[k + l]; d8[l] += yr[k + l] * xr[k + l]; y8[l] += yr[k + l]; }
        const float s = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
        const float yx = ((d8[0] + d8[1]) + (d8[2] + d8[3])) + ((d8[4] + d8[5]) + (d8[6] + d8[7]));
        const float sy = ((y8[0] + y8[1]) + (y8[2] + y8[3])) + ((y8[4] + y8[5]) + (y8[6] + y8[7]));
        const float scale = sy / s;
        for (k = 0; k < C; k++) gr[k] = gr[k] * scale - yr[k];
        loss[r] = (m + LOGF(s)) * sy - yx;
        total[r & 7] += (double)loss[r];
    }
    return hand_total(total);
}

/* GIoU loss (Rezatofighi et al. 2019) in the published i, u, e form with +1e-7 on u and e:
   L = 1 - i/u + (e - u)/e, boxes [n][4] (x1, y1, x2, y2), gradient w.r.t. the predicted box:
   dL = ci di + cu du + ce de with ci = -1/u, cu = i/u^2 - 1/e, ce = u/e^2, du = da - di. */
static void hand_giou_block(size_t m, const float *restrict pred, const float *restrict target,
                            float *restrict loss, float *restrict grad)
{
    size_t i;
    for (i = 0; i < m; i++) {
        const float x1 = pred[4 * i], y1 = pred[4 * i + 1], x2 = pred[4 * i + 2], y2 = pred[4 * i + 3];
        const float tx1 = target[4 * i], ty1 = target[4 * i + 1], tx2 = target[4 * i + 2], ty2 = target[4 * i + 3];
        const float iwr = HAND_MIN(x2, tx2) - HAND_MAX(x1, tx1), ihr = HAND_MIN(y2, ty2) - HAND_MAX(y1, ty1);
        const float iw = HAND_MAX(iwr, 0.0f), ih = HAND_MAX(ihr, 0.0f);
        const float inter = iw * ih;
        const float w = x2 - x1, h = y2 - y1;
        const float u = (w * h + (tx2 - tx1) * (ty2 - ty1) - inter) + 1e-7f;
        const float ewr = HAND_MAX(x2, tx2) - HAND_MIN(x1, tx1), ehr = HAND_MAX(y2, ty2) - HAND_MIN(y1, ty1);
        const float ew = HAND_MAX(ewr, 0.0f), eh = HAND_MAX(ehr, 0.0f);
        const float e = ew * eh + 1e-7f;
        loss[i] = 1.0f - (inter / u - (e - u) / e);
        const float di_x1 = iwr > 0.0f ? (x1 > tx1 ? -ih : 0.0f) : 0.0f, di_x2 = iwr > 0.0f ? (x2 < tx2 ? ih : 0.0f) : 0.0f;
        const float di_y1 = ihr > 0.0f ? (y1 > ty1 ? -iw : 0.0f) : 0.0f, di_y2 = ihr > 0.0f ? (y2 < ty2 ? iw : 0.0f) : 0.0f;
        const float de_x1 = ewr > 0.0f ? (x1 < tx1 ? -eh : 0.0f) : 0.0f, de_x2 = ewr > 0.0f ? (x2 > tx2 ? eh : 0.0f) : 0.0f;
        const float de_y1 = ehr > 0.0f ? (y1 < ty1 ? -ew : 0.0f) : 0.0f, de_y2 = ehr > 0.0f ? (y2 > ty2 ? ew : 0.0f) : 0.0f;
        const float cu = inter / (u * u) - 1.0f / e, ci = -1.0f / u, ce = u / (e * e);
        grad[4 * i] = ci * di_x1 + cu * (-h - di_x1) + ce * de_x1;
        grad[4 * i + 1] = ci * di_y1 + cu * (-w - di_y1) + ce * de_y1;
        grad[4 * i + 2] = ci * di_x2 + cu * (h - di_x2) + ce * de_x2;
        grad[4 * i + 3] = ci * di_y2 + cu * (w - di_y2) + ce * de_y2;
    }
}
double hand_giou(size_t n, const float *pred, const float *target, float *loss, float *grad)
{
    double acc[8] = { 0 };
    size_t i;
    for (i = 0; i < n; i += HAND_BLOCK) {
        const size_t m = n - i < HAND_BLOCK ? n - i : HAND_BLOCK;
        hand_giou_block(m, pred + 4 * i, target + 4 * i, loss + i, grad + 4 * i);
        hand_lanes(acc, loss + i, m);
    }
    return hand_total(acc);
}
"""#
}
