/*
 * CLossMath.h — block ("array") entry points over lossc_math.h, for the CLossMath SwiftPM
 * target and for any C caller.
 *
 * Each function computes out[i] = f(in[i]) for 0 <= i < n. `out` may be the same array
 * as `in` (in place); other partial overlaps are not allowed. n <= 0 does nothing.
 * The element functions themselves (lossc_expf, ...) are static inline in lossc_math.h.
 */
#ifndef CLOSSMATH_H
#define CLOSSMATH_H

#include "lossc_math.h"

#ifdef __cplusplus
extern "C" {
#endif

void lossc_vexpf(const float *in, float *out, long n);
void lossc_vlogf(const float *in, float *out, long n);
void lossc_vlog1pf(const float *in, float *out, long n);
void lossc_vexpm1f(const float *in, float *out, long n);
void lossc_vtanhf(const float *in, float *out, long n);
void lossc_vsigmoidf(const float *in, float *out, long n);
void lossc_vsoftplusf(const float *in, float *out, long n);

void lossc_vexp(const double *in, double *out, long n);
void lossc_vlog(const double *in, double *out, long n);
void lossc_vlog1p(const double *in, double *out, long n);
void lossc_vexpm1(const double *in, double *out, long n);
void lossc_vtanh(const double *in, double *out, long n);
void lossc_vsigmoid(const double *in, double *out, long n);
void lossc_vsoftplus(const double *in, double *out, long n);

#ifdef __cplusplus
}
#endif

#endif /* CLOSSMATH_H */
