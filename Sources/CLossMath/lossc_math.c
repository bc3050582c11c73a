/*
 * Block entry points: out[i] = f(in[i]).
 *
 * The loop itself is written with `restrict` pointers so the compiler vectorizes it without
 * a run-time overlap check. Because `restrict` makes in-place calls undefined, the public
 * functions take plain pointers and, when out == in, run the loop from a small stack copy
 * of each chunk (the copy costs far less than the math).
 */
#include "CLossMath.h"

enum { LOSSC_CHUNK = 512 };

#define LOSSC_BLOCK(NAME, FN, T)                                                     \
    static void NAME##_loop(const T *restrict in, T *restrict out, long n)           \
    {                                                                                \
        for (long i = 0; i < n; i++)                                                 \
            out[i] = FN(in[i]);                                                      \
    }                                                                                \
    void NAME(const T *in, T *out, long n)                                           \
    {                                                                                \
        if (in != out) {                                                             \
            NAME##_loop(in, out, n);                                                 \
            return;                                                                  \
        }                                                                            \
        T tmp[LOSSC_CHUNK];                                                          \
        for (long i = 0; i < n; i += LOSSC_CHUNK) {                                  \
            long m = n - i < LOSSC_CHUNK ? n - i : LOSSC_CHUNK;                      \
            memcpy(tmp, in + i, (size_t)m * sizeof(T));                              \
            NAME##_loop(tmp, out + i, m);                                            \
        }                                                                            \
    }

LOSSC_BLOCK(lossc_vexpf, lossc_expf, float)
LOSSC_BLOCK(lossc_vlogf, lossc_logf, float)
LOSSC_BLOCK(lossc_vlog1pf, lossc_log1pf, float)
LOSSC_BLOCK(lossc_vexpm1f, lossc_expm1f, float)
LOSSC_BLOCK(lossc_vtanhf, lossc_tanhf, float)
LOSSC_BLOCK(lossc_vsigmoidf, lossc_sigmoidf, float)
LOSSC_BLOCK(lossc_vsoftplusf, lossc_softplusf, float)

LOSSC_BLOCK(lossc_vexp, lossc_exp, double)
LOSSC_BLOCK(lossc_vlog, lossc_log, double)
LOSSC_BLOCK(lossc_vlog1p, lossc_log1p, double)
LOSSC_BLOCK(lossc_vexpm1, lossc_expm1, double)
LOSSC_BLOCK(lossc_vtanh, lossc_tanh, double)
LOSSC_BLOCK(lossc_vsigmoid, lossc_sigmoid, double)
LOSSC_BLOCK(lossc_vsoftplus, lossc_softplus, double)
