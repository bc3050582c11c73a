/*
 * CLossBench.h — hand-written C loops of four losses (value + gradient, float32), the C
 * baselines of `lossc bench closures`. Not part of the library API.
 *
 * Each function returns the sum of the per-sample losses and, when grad is not NULL, writes
 * d loss_i / d prediction. `_vec` variants use the branch-free math of lossc_math.h (the
 * same functions the closures call, so the loops vectorize); `_libm` variants call libm.
 */
#ifndef CLOSSBENCH_H
#define CLOSSBENCH_H

#ifdef __cplusplus
extern "C" {
#endif

/* Focal loss, gamma = 2: x logits, y labels in {0,1}; grad: n values. */
double lossc_bench_focal_vec(const float *x, const float *y, float *grad, long n, float alpha);
double lossc_bench_focal_libm(const float *x, const float *y, float *grad, long n, float alpha);
/* Binary cross-entropy on logits. */
double lossc_bench_bce_vec(const float *x, const float *y, float *grad, long n);
double lossc_bench_bce_libm(const float *x, const float *y, float *grad, long n);
/* Softmax cross-entropy: rows x classes logits and one-hot labels; grad: rows*classes. */
double lossc_bench_ce_vec(const float *x, const float *y, float *grad, long rows, long classes);
double lossc_bench_ce_libm(const float *x, const float *y, float *grad, long rows, long classes);
/* GIoU loss: boxes (x1, y1, x2, y2) interleaved; grad: 4 per predicted box. */
double lossc_bench_giou(const float *pred, const float *target, float *grad, long n);

#ifdef __cplusplus
}
#endif

#endif /* CLOSSBENCH_H */
