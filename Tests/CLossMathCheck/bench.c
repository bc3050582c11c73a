/*
 * bench.c — ns/element of the CLossMath block functions vs plain glibc loops, same process.
 *
 *   cc -O3 -std=c99 -ISources/CLossMath/include Tests/CLossMathCheck/bench.c \
 *      Sources/CLossMath/lossc_math.c -lm -o /tmp/bench && /tmp/bench [N] [REPS]
 *
 * Every row is the best of REPS (default 7) passes over N (default 4 Mi) elements.
 * The glibc rows are scalar calls (expf/logf/log1pf...; without -ffast-math and libmvec
 * they cannot be vectorized); the composite rows (sigmoid, softplus) are written the
 * stable way with glibc calls, as a scalar C kernel would be.
 */
#define _POSIX_C_SOURCE 199309L
#include "CLossMath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef void (*kf)(const float *, float *, long);
typedef void (*kd)(const double *, double *, long);

/* glibc reference loops */
static void g_expf(const float *in, float *out, long n) { for (long i = 0; i < n; i++) out[i] = expf(in[i]); }
static void g_logf(const float *in, float *out, long n) { for (long i = 0; i < n; i++) out[i] = logf(in[i]); }
static void g_log1pf(const float *in, float *out, long n) { for (long i = 0; i < n; i++) out[i] = log1pf(in[i]); }
static void g_expm1f(const float *in, float *out, long n) { for (long i = 0; i < n; i++) out[i] = expm1f(in[i]); }
static void g_tanhf(const float *in, float *out, long n) { for (long i = 0; i < n; i++) out[i] = tanhf(in[i]); }
static void g_sigmoidf(const float *in, float *out, long n)
{
    for (long i = 0; i < n; i++) {
        float x = in[i], e = expf(-fabsf(x));
        out[i] = (x >= 0 ? 1.0f : e) / (1.0f + e);
    }
}
static void g_softplusf(const float *in, float *out, long n)
{
    for (long i = 0; i < n; i++) out[i] = fmaxf(in[i], 0.0f) + log1pf(expf(-fabsf(in[i])));
}
static void g_exp(const double *in, double *out, long n) { for (long i = 0; i < n; i++) out[i] = exp(in[i]); }
static void g_log(const double *in, double *out, long n) { for (long i = 0; i < n; i++) out[i] = log(in[i]); }
static void g_log1p(const double *in, double *out, long n) { for (long i = 0; i < n; i++) out[i] = log1p(in[i]); }

static long N = 4L << 20;
static int REPS = 7;

static double time_f(kf k, const float *in, float *out)
{
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t = now();
        k(in, out, N);
        t = now() - t;
        if (t < best) best = t;
    }
    return best * 1e9 / (double)N;
}
static double time_d(kd k, const double *in, double *out)
{
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t = now();
        k(in, out, N);
        t = now() - t;
        if (t < best) best = t;
    }
    return best * 1e9 / (double)N;
}

int main(int argc, char **argv)
{
    if (argc > 1) N = atol(argv[1]);
    if (argc > 2) REPS = atoi(argv[2]);
    if (N < 1 || REPS < 1) { fprintf(stderr, "usage: %s [N] [REPS]\n", argv[0]); return 2; }
    float *in = malloc((size_t)N * sizeof *in), *out = malloc((size_t)N * sizeof *out);
    double *ind = malloc((size_t)N * sizeof *ind), *outd = malloc((size_t)N * sizeof *outd);
    if (!in || !out || !ind || !outd) { fprintf(stderr, "out of memory\n"); return 2; }

    struct { const char *name; kf mine, glibc; double lo, hi; } fr[] = {
        {"expf", lossc_vexpf, g_expf, -10, 10},
        {"logf", lossc_vlogf, g_logf, 1e-3, 1e3},
        {"log1pf", lossc_vlog1pf, g_log1pf, -0.9, 10},
        {"expm1f", lossc_vexpm1f, g_expm1f, -10, 10},
        {"tanhf", lossc_vtanhf, g_tanhf, -5, 5},
        {"sigmoidf", lossc_vsigmoidf, g_sigmoidf, -10, 10},
        {"softplusf", lossc_vsoftplusf, g_softplusf, -10, 10},
    };
    struct { const char *name; kd mine, glibc; double lo, hi; } dr[] = {
        {"exp", lossc_vexp, g_exp, -10, 10},
        {"log", lossc_vlog, g_log, 1e-3, 1e3},
        {"log1p", lossc_vlog1p, g_log1p, -0.9, 10},
    };
    printf("%ld elements, best of %d; ns/element\n%-10s %8s %8s %7s\n", N, REPS, "function", "lossc", "glibc", "speedup");
    unsigned s = 12345;
    for (size_t k = 0; k < sizeof fr / sizeof fr[0]; k++) {
        for (long i = 0; i < N; i++) {
            s = s * 1103515245u + 12345u;
            in[i] = (float)(fr[k].lo + (fr[k].hi - fr[k].lo) * ((double)(s >> 8) / 16777216.0));
        }
        double a = time_f(fr[k].mine, in, out), b = time_f(fr[k].glibc, in, out);
        printf("%-10s %8.3f %8.3f %6.1fx\n", fr[k].name, a, b, b / a);
    }
    for (size_t k = 0; k < sizeof dr / sizeof dr[0]; k++) {
        for (long i = 0; i < N; i++) {
            s = s * 1103515245u + 12345u;
            ind[i] = dr[k].lo + (dr[k].hi - dr[k].lo) * ((double)(s >> 8) / 16777216.0);
        }
        double a = time_d(dr[k].mine, ind, outd), b = time_d(dr[k].glibc, ind, outd);
        printf("%-10s %8.3f %8.3f %6.1fx\n", dr[k].name, a, b, b / a);
    }
    free(in); free(out); free(ind); free(outd);
    return 0;
}
