/*
 * accuracy.c — measures CLossMath against glibc and checks special values.
 *
 *   accuracy [-s STRIDE] [-n NDOUBLE] [-f NAME] [-q]
 *
 * float functions: every STRIDE-th of all 2^32 bit patterns (STRIDE=1 is exhaustive),
 *   reference = glibc's double function (or a stable double formula for sigmoid/softplus),
 *   error measured in float ulps against that unrounded double value, so a correctly
 *   rounded result scores <= 0.5.
 * double functions: NDOUBLE random arguments per function (random bit patterns, log-uniform
 *   magnitudes, uniform on the function's interesting interval) plus edge values, against
 *   glibc's long double (x87, 64-bit mantissa) functions; error in double ulps.
 * Both paths are run through the block (vectorized) entry point and compared bit-for-bit with
 * the scalar inline function; in-place calls (out == in) are checked too.
 * Exit status 1 if any bound, special value or consistency check fails.
 */
#include "CLossMath.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- references ------------------------------------------------------------------- */

static double ref_sigmoid(double x)
{
    double e = exp(-fabs(x));
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
static double ref_softplus(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
static long double ref_sigmoidl(long double x)
{
    long double e = expl(-fabsl(x));
    return x >= 0 ? 1.0L / (1.0L + e) : e / (1.0L + e);
}
static long double ref_softplusl(long double x) { return fmaxl(x, 0.0L) + log1pl(expl(-fabsl(x))); }

/* wrappers so every function has an address (the library's are static inline) */
static float s_expf(float x) { return lossc_expf(x); }
static float s_logf(float x) { return lossc_logf(x); }
static float s_log1pf(float x) { return lossc_log1pf(x); }
static float s_expm1f(float x) { return lossc_expm1f(x); }
static float s_tanhf(float x) { return lossc_tanhf(x); }
static float s_sigmoidf(float x) { return lossc_sigmoidf(x); }
static float s_softplusf(float x) { return lossc_softplusf(x); }
static double s_exp(double x) { return lossc_exp(x); }
static double s_log(double x) { return lossc_log(x); }
static double s_log1p(double x) { return lossc_log1p(x); }
static double s_expm1(double x) { return lossc_expm1(x); }
static double s_tanh(double x) { return lossc_tanh(x); }
static double s_sigmoid(double x) { return lossc_sigmoid(x); }
static double s_softplus(double x) { return lossc_softplus(x); }

/* ---- ulp error ---------------------------------------------------------------------- */

/* |y - ref| in ulps of the float nearest ref; inf counts as 2^128 so that an overflow
   boundary miss is a finite (large) error, and NaN must match NaN exactly. */
static double ulp_err_f(float y, double ref)
{
    if (isnan(y) || isnan(ref)) return (isnan(y) && isnan(ref)) ? 0.0 : INFINITY;
    double yy = isinf(y) ? copysign(0x1p128, y) : (double)y;
    double rr = fabs(ref) > 0x1p128 ? copysign(0x1p128, ref) : ref;
    int e;
    frexp(rr, &e);
    double ulp = ldexp(1.0, (e > 128 ? 128 : e) - 24);
    if (ulp < 0x1p-149) ulp = 0x1p-149;
    return fabs(yy - rr) / ulp;
}

static double ulp_err_d(double y, long double ref)
{
    if (isnan(y) || isnan(ref)) return (isnan(y) && isnan(ref)) ? 0.0 : INFINITY;
    long double yy = isinf(y) ? copysignl(0x1p1024L, y) : (long double)y;
    long double rr = fabsl(ref) > 0x1p1024L ? copysignl(0x1p1024L, ref) : ref;
    int e;
    frexpl(rr, &e);
    long double ulp = ldexpl(1.0L, (e > 1024 ? 1024 : e) - 53);
    if (ulp < 0x1p-1074L) ulp = 0x1p-1074L;
    return (double)(fabsl(yy - rr) / ulp);
}

static int same_f(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y || (isnan(a) && isnan(b));
}
static int same_d(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    return x == y || (isnan(a) && isnan(b));
}

/* ---- special values ------------------------------------------------------------------ */
/* expect: exact value (sign of zero and of inf checked); rel > 0: |y/expect - 1| <= rel */
struct special { double x, expect, rel; };


static int check_specials_f(const char *name, void (*v)(const float *, float *, long), float (*s)(float),
                            const struct special *sp, int n, int quiet)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        float x = (float)sp[i].x, yb, ys = s(x), ex = (float)sp[i].expect;
        v(&x, &yb, 1);
        int good = same_f(ys, yb);
        if (sp[i].rel > 0) good = good && fabs((double)ys / sp[i].expect - 1.0) <= sp[i].rel;
        else good = good && same_f(ys, ex);
        if (!good && !quiet) printf("  SPECIAL FAIL %s(%a) = %a (block %a), expected %a\n", name, x, ys, yb, ex);
        ok += good;
    }
    return ok;
}

static int check_specials_d(const char *name, void (*v)(const double *, double *, long), double (*s)(double),
                            const struct special *sp, int n, int quiet)
{
    int ok = 0;
    for (int i = 0; i < n; i++) {
        double x = sp[i].x, yb, ys = s(x);
        v(&x, &yb, 1);
        int good = same_d(ys, yb);
        if (sp[i].rel > 0) good = good && fabs(ys / sp[i].expect - 1.0) <= sp[i].rel;
        else good = good && same_d(ys, sp[i].expect);
        if (!good && !quiet) printf("  SPECIAL FAIL %s(%a) = %a (block %a), expected %a\n", name, x, ys, yb, sp[i].expect);
        ok += good;
    }
    return ok;
}

#define INF_ INFINITY
static const struct special sp_exp[] = {
    {NAN, NAN, 0}, {0, 1, 0}, {-0.0, 1, 0}, {INF_, INF_, 0}, {-INF_, 0, 0}, {1000, INF_, 0}, {-1000, 0, 0},
    {1, 2.718281828459045, 1e-7},
};
static const struct special sp_log[] = {
    {NAN, NAN, 0}, {1, 0, 0}, {0, -INF_, 0}, {-0.0, -INF_, 0}, {-1, NAN, 0}, {-INF_, NAN, 0}, {INF_, INF_, 0},
    {0x1p-149, -103.27892990343184, 1e-7}, {2, 0.6931471805599453, 1e-7},
};
static const struct special sp_log1p[] = {
    {NAN, NAN, 0}, {0, 0, 0}, {-0.0, -0.0, 0}, {-1, -INF_, 0}, {-2, NAN, 0}, {-INF_, NAN, 0}, {INF_, INF_, 0},
    {1e-30, 1e-30, 1e-7}, {0x1p-149, 0x1p-149, 0}, {-0x1p-149, -0x1p-149, 0}, {1, 0.6931471805599453, 1e-7},
};
static const struct special sp_expm1[] = {
    {NAN, NAN, 0}, {0, 0, 0}, {-0.0, -0.0, 0}, {INF_, INF_, 0}, {-INF_, -1, 0}, {1000, INF_, 0}, {-1000, -1, 0},
    {0x1p-149, 0x1p-149, 0}, {1e-30, 1e-30, 1e-7}, {1, 1.718281828459045, 1e-7},
};
static const struct special sp_tanh[] = {
    {NAN, NAN, 0}, {0, 0, 0}, {-0.0, -0.0, 0}, {INF_, 1, 0}, {-INF_, -1, 0}, {20, 1, 0}, {-20, -1, 0},
    {1e-30, 1e-30, 1e-7}, {-0x1p-149, -0x1p-149, 0}, {0.5, 0.46211715726000974, 1e-7},
};
static const struct special sp_sigmoid[] = {
    {NAN, NAN, 0}, {0, 0.5, 0}, {INF_, 1, 0}, {-INF_, 0, 0}, {100, 1, 0}, {-1000, 0, 0},
    {1, 0.7310585786300049, 1e-7}, {-10, 4.5397868702434395e-05, 1e-7},
};
static const struct special sp_softplus[] = {
    {NAN, NAN, 0}, {0, 0.6931471805599453, 1e-7}, {INF_, INF_, 0}, {-INF_, 0, 0}, {100, 100, 0}, {-1000, 0, 0},
    {1e4, 1e4, 0}, {1, 1.3132616875182228, 1e-7}, {-10, 4.5398899216870535e-05, 1e-7},
};
/* float-only / double-only extras: values that underflow differently */
static const struct special sp_exp_f_x[] = { {89, INF_, 0}, {88.72283, 3.4028e38, 1e-4}, {-103.9, 0x1p-149, 0},
                                             {-87.5, 9.9823509e-39, 1e-6} /* subnormal */ };
/* float sigmoid(-100) is subnormal: 27 * 2^-149, within half a subnormal ulp of 3.72e-44 */
static const struct special sp_sigmoidf_x[] = { {-100, 3.7200759760208356e-44, 0.019}, {-104, 0, 0} };
static const struct special sp_sigmoid_d_x[] = { {-100, 3.7200759760208356e-44, 1e-15}, {-745.2, 0, 0},
                                                 {-740, 4.1887398800480489e-322, 0.01} };
static const struct special sp_softplus_d_x[] = { {-100, 3.7200759760208356e-44, 1e-15}, {800, 800, 0} };
static const struct special sp_exp_d_x[] = { {709.7, 1.6549840276802644e308, 1e-15}, {709.8, INF_, 0},
                                             {-745.0, 4.9406564584124654e-324, 0}, {-746, 0, 0},
                                             {-708.5, 2.0061323053313058e-308, 1e-15}, {-740, 4.1887398800480489e-322, 0.01} };
static const struct special sp_log_d_x[] = { {0x1p-1074, -744.4400719213812, 1e-15}, {DBL_MAX, 709.782712893384, 1e-15} };
static const struct special sp_expm1_d_x[] = { {709.78, 1.7928227943945155e308, 1e-15}, {709.8, INF_, 0}, {-40, -1, 0} };

#define N_(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the table of functions --------------------------------------------------------------- */

struct ffn {
    const char *name;
    void (*v)(const float *, float *, long);
    float (*s)(float);
    double (*ref)(double);
    double limit;
    const struct special *sp, *sp2;
    int nsp, nsp2;
};
struct dfn {
    const char *name;
    void (*v)(const double *, double *, long);
    double (*s)(double);
    long double (*ref)(long double);
    double limit, lo, hi; /* uniform test interval */
    const struct special *sp, *sp2;
    int nsp, nsp2;
};

static const struct ffn ffns[] = {
    {"lossc_expf", lossc_vexpf, s_expf, exp, 2, sp_exp, sp_exp_f_x, N_(sp_exp), N_(sp_exp_f_x)},
    {"lossc_logf", lossc_vlogf, s_logf, log, 2, sp_log, NULL, N_(sp_log), 0},
    {"lossc_log1pf", lossc_vlog1pf, s_log1pf, log1p, 2, sp_log1p, NULL, N_(sp_log1p), 0},
    {"lossc_expm1f", lossc_vexpm1f, s_expm1f, expm1, 2, sp_expm1, NULL, N_(sp_expm1), 0},
    {"lossc_tanhf", lossc_vtanhf, s_tanhf, tanh, 4, sp_tanh, NULL, N_(sp_tanh), 0},
    {"lossc_sigmoidf", lossc_vsigmoidf, s_sigmoidf, ref_sigmoid, 4, sp_sigmoid, sp_sigmoidf_x, N_(sp_sigmoid), N_(sp_sigmoidf_x)},
    {"lossc_softplusf", lossc_vsoftplusf, s_softplusf, ref_softplus, 4, sp_softplus, NULL, N_(sp_softplus), 0},
};
static const struct dfn dfns[] = {
    {"lossc_exp", lossc_vexp, s_exp, expl, 2, -750, 712, sp_exp, sp_exp_d_x, N_(sp_exp), N_(sp_exp_d_x)},
    {"lossc_log", lossc_vlog, s_log, logl, 2, 0, 4, sp_log, sp_log_d_x, N_(sp_log), N_(sp_log_d_x)},
    {"lossc_log1p", lossc_vlog1p, s_log1p, log1pl, 2, -1, 4, sp_log1p, NULL, N_(sp_log1p), 0},
    {"lossc_expm1", lossc_vexpm1, s_expm1, expm1l, 2, -45, 712, sp_expm1, sp_expm1_d_x, N_(sp_expm1), N_(sp_expm1_d_x)},
    {"lossc_tanh", lossc_vtanh, s_tanh, tanhl, 4, -22, 22, sp_tanh, NULL, N_(sp_tanh), 0},
    {"lossc_sigmoid", lossc_vsigmoid, s_sigmoid, ref_sigmoidl, 4, -750, 40, sp_sigmoid, sp_sigmoid_d_x, N_(sp_sigmoid), N_(sp_sigmoid_d_x)},
    {"lossc_softplus", lossc_vsoftplus, s_softplus, ref_softplusl, 4, -750, 40, sp_softplus, sp_softplus_d_x, N_(sp_softplus), N_(sp_softplus_d_x)},
};

/* ---- drivers ------------------------------------------------------------------------------ */

enum { BATCH = 4096 };

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
static double uniform(double lo, double hi) { return lo + (hi - lo) * ((double)(rng() >> 11) * 0x1p-53); }

struct result { double max_err, at; long points, mismatches; };

static void measure_f(const struct ffn *f, const float *x, long n, struct result *r)
{
    static float y[BATCH];
    f->v(x, y, n);
    for (long i = 0; i < n; i++) {
        double e = ulp_err_f(y[i], f->ref((double)x[i]));
        if (e > r->max_err || (e != e)) { r->max_err = e; r->at = x[i]; }
        if (!same_f(y[i], f->s(x[i]))) r->mismatches++;
    }
    r->points += n;
}

static void measure_d(const struct dfn *f, const double *x, long n, struct result *r)
{
    static double y[BATCH];
    f->v(x, y, n);
    for (long i = 0; i < n; i++) {
        double e = ulp_err_d(y[i], f->ref((long double)x[i]));
        if (e > r->max_err) { r->max_err = e; r->at = x[i]; }
        if (!same_d(y[i], f->s(x[i]))) r->mismatches++;
    }
    r->points += n;
}

/* out == in must give the same as out-of-place, across several internal chunks */
static int inplace_ok_f(const struct ffn *f)
{
    enum { N = 1500 };
    static float a[N], b[N];
    for (int i = 0; i < N; i++) a[i] = (float)uniform(-30, 30);
    f->v(a, b, N);
    f->v(a, a, N);
    for (int i = 0; i < N; i++) if (!same_f(a[i], b[i])) return 0;
    return 1;
}
static int inplace_ok_d(const struct dfn *f)
{
    enum { N = 1500 };
    static double a[N], b[N];
    for (int i = 0; i < N; i++) a[i] = uniform(-30, 30);
    f->v(a, b, N);
    f->v(a, a, N);
    for (int i = 0; i < N; i++) if (!same_d(a[i], b[i])) return 0;
    return 1;
}

static int report(const char *name, const struct result *r, double limit, int sp_ok, int sp_n, int inplace)
{
    int pass = r->max_err <= limit && r->mismatches == 0 && sp_ok == sp_n && inplace;
    printf("%-16s %10ld  %8.3f  %-26.9g %5.0f  %6ld  %3d/%-3d %-4s %s\n", name, r->points, r->max_err, r->at, limit,
           r->mismatches, sp_ok, sp_n, inplace ? "ok" : "FAIL", pass ? "PASS" : "FAIL");
    return pass;
}

int main(int argc, char **argv)
{
    long stride = 97, ndouble = 4000000;
    const char *only = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc) stride = atol(argv[++i]);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc) ndouble = atol(argv[++i]);
        else if (!strcmp(argv[i], "-f") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "-q")) quiet = 1;
        else { fprintf(stderr, "usage: %s [-s STRIDE] [-n NDOUBLE] [-f NAME] [-q]\n", argv[0]); return 2; }
    }
    if (stride < 1 || ndouble < 0) { fprintf(stderr, "bad -s or -n\n"); return 2; }
    int all_pass = 1;
    static float xf[BATCH];
    static double xd[BATCH];

    printf("float: every %ld-th of the 2^32 bit patterns, vs glibc double; ulps of float\n", stride);
    printf("%-16s %10s  %8s  %-26s %5s  %6s  %-7s %-4s %s\n", "function", "points", "max ulp", "at x", "limit",
           "scal!=", "special", "inpl", "");
    for (int k = 0; k < N_(ffns); k++) {
        const struct ffn *f = &ffns[k];
        if (only && strcmp(only, f->name) && strcmp(only, f->name + 6)) continue;
        struct result r = {0, 0, 0, 0};
        long m = 0;
        for (uint64_t b = 0; b < (UINT64_C(1) << 32); b += (uint64_t)stride) {
            uint32_t bits = (uint32_t)b;
            memcpy(&xf[m++], &bits, 4);
            if (m == BATCH) { measure_f(f, xf, m, &r); m = 0; }
        }
        if (m) measure_f(f, xf, m, &r);
        int sp = check_specials_f(f->name, f->v, f->s, f->sp, f->nsp, quiet);
        if (f->sp2) sp += check_specials_f(f->name, f->v, f->s, f->sp2, f->nsp2, quiet);
        all_pass &= report(f->name, &r, f->limit, sp, f->nsp + f->nsp2, inplace_ok_f(f));
    }

    printf("\ndouble: %ld random + edge arguments each, vs glibc long double; ulps of double\n", ndouble);
    for (int k = 0; k < N_(dfns); k++) {
        const struct dfn *f = &dfns[k];
        if (only && strcmp(only, f->name) && strcmp(only, f->name + 6)) continue;
        struct result r = {0, 0, 0, 0};
        /* edges: +-0, tiny, subnormal, interval ends and a few ulps around them */
        static const double edges[] = {0.0, -0.0, 0x1p-1074, -0x1p-1074, 0x1p-1022, 1e-300, -1e-300, 1e-20, -1e-20,
                                       0x1p-54, -0x1p-54, 0x1p-27, 1, -1, 0.5, -0.5, 2, 709.782712893384,
                                       -745.1332191019411, -745.1332191019412, 710, -708.39641853226408,
                                       DBL_MAX, -DBL_MAX, 19.06, 20, 37.4, -37.4};
        long m = 0;
        for (int i = 0; i < N_(edges); i++)
            for (int d = -3; d <= 3; d++) {
                double x = edges[i];
                for (int j = 0; j < (d < 0 ? -d : d); j++) x = nextafter(x, d < 0 ? -INFINITY : INFINITY);
                xd[m++] = x;
            }
        measure_d(f, xd, m, &r);
        m = 0;
        for (long i = 0; i < ndouble; i++) {
            double x;
            switch (i % 4) {
            case 0: { uint64_t b = rng(); memcpy(&x, &b, 8); if (isnan(x)) x = 0; break; }   /* any bits */
            case 1: x = ldexp(uniform(0.5, 1), (int)(rng() % 140) - 120) * ((rng() & 1) ? -1 : 1); break;
            case 2: x = uniform(f->lo, f->hi); break;
            default: x = uniform(-2, 2); break;
            }
            xd[m++] = x;
            if (m == BATCH) { measure_d(f, xd, m, &r); m = 0; }
        }
        if (m) measure_d(f, xd, m, &r);
        int sp = check_specials_d(f->name, f->v, f->s, f->sp, f->nsp, quiet);
        if (f->sp2) sp += check_specials_d(f->name, f->v, f->s, f->sp2, f->nsp2, quiet);
        all_pass &= report(f->name, &r, f->limit, sp, f->nsp + f->nsp2, inplace_ok_d(f));
    }
    printf("\n%s\n", all_pass ? "accuracy: all checks passed" : "accuracy: FAILED");
    return all_pass ? 0 : 1;
}
