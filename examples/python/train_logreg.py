#!/usr/bin/env python3
"""Use lossc's emitted C kernels from Python with ctypes and numpy.

    lossc build examples/bce.loss   -o libbce.so
    lossc build examples/focal.loss -o libfocal.so
    python3 train_logreg.py libbce.so libfocal.so

1. loads the shared libraries with ctypes and calls the kernels on numpy arrays;
2. checks the BCE values against numpy's closed form, and the gradients (bce and focal,
   float64 kernels) against central finite differences of the kernels' own losses;
3. trains a logistic regression on a synthetic, imbalanced two-class problem with the
   BCE kernel (float32) supplying the loss and d loss / d logit, then with focal loss
   (alpha and gamma passed at run time through the params struct).

Exits 0 when every check passes, 1 otherwise.
"""
import ctypes
import sys
import time

import numpy as np

F32 = ctypes.POINTER(ctypes.c_float)
F64 = ctypes.POINTER(ctypes.c_double)


class FocalParams(ctypes.Structure):
    """Mirrors `typedef struct focal_params { double alpha; double gamma; }` in focal.h."""
    _fields_ = [("alpha", ctypes.c_double), ("gamma", ctypes.c_double)]


def binary_kernel(lib, name, dtype):
    """A binary-kind kernel: double NAME(size_t n, x, y, w, params, loss, d_x) -> sum."""
    f = getattr(lib, name)
    p = F32 if dtype == np.float32 else F64
    f.argtypes = [ctypes.c_size_t, p, p, p, ctypes.c_void_p, p, p]
    f.restype = ctypes.c_double

    def call(x, y, params=None, want_grad=True, out=None):
        x = np.ascontiguousarray(x, dtype=dtype)
        y = np.ascontiguousarray(y, dtype=dtype)
        loss, grad = out if out is not None else (np.empty_like(x), np.empty_like(x) if want_grad else None)
        ptr = lambda a: a.ctypes.data_as(p) if a is not None else None
        pp = ctypes.cast(ctypes.pointer(params), ctypes.c_void_p) if params is not None else None
        total = f(x.size, ptr(x), ptr(y), None, pp, ptr(loss), ptr(grad))  # w unused: NULL
        return total, loss, grad

    return call


def check(name, ok, detail=""):
    print(("PASS  " if ok else "FAIL  ") + name + (f"  ({detail})" if detail else ""))
    return ok


def finite_difference_check(call, params, x, y):
    """Central differences of the kernel's own per-element loss (float64)."""
    _, _, grad = call(x, y, params)
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    _, lp, _ = call(x + h, y, params, want_grad=False)
    _, lm, _ = call(x - h, y, params, want_grad=False)
    fd = (lp - lm) / (2 * h)
    err = np.max(np.abs(grad - fd) / np.maximum(1.0, np.abs(fd)))
    return err


def train(call, params, X, t, steps=300, lr=0.5):
    """Full-batch gradient descent on a linear model; the kernel gives d loss_i / d logit_i."""
    n, d = X.shape
    w = np.zeros(d, dtype=np.float32)
    b = np.float32(0)
    history = []
    for _ in range(steps):
        logits = X @ w + b
        total, _, dlogit = call(logits, t, params)
        history.append(total / n)
        w -= lr * (X.T @ dlogit) / n
        b -= lr * dlogit.mean()
    accuracy = np.mean(((X @ w + b) > 0) == (t > 0.5))
    return history, accuracy


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    bce_lib, focal_lib = ctypes.CDLL(argv[1]), ctypes.CDLL(argv[2])
    bce32, bce64 = binary_kernel(bce_lib, "bce_f32", np.float32), binary_kernel(bce_lib, "bce_f64", np.float64)
    focal32, focal64 = binary_kernel(focal_lib, "focal_f32", np.float32), binary_kernel(focal_lib, "focal_f64", np.float64)
    rng = np.random.default_rng(0)
    ok = True

    # 1-2. Values against the closed form, gradients against finite differences.
    x = np.concatenate([rng.uniform(-8, 8, 1000), [-100.0, -30.0, 0.0, 30.0, 100.0]])
    y = (rng.uniform(size=x.size) < 0.3).astype(np.float64)
    total, loss, grad = bce64(x, y)
    closed = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    ok &= check("bce_f64 values = numpy closed form", np.max(np.abs(loss - closed)) < 1e-12,
                f"max error {np.max(np.abs(loss - closed)):.1e}")
    ok &= check("bce_f64 sum = sum of per-element losses", abs(total - loss.sum()) < 1e-9 * max(1.0, abs(total)))
    ok &= check("bce_f64 gradient = sigmoid(x) - y", np.max(np.abs(grad - (1 / (1 + np.exp(-x)) - y))) < 1e-12)
    _, l32, g32 = bce32(x, y)
    ok &= check("bce_f32 agrees with bce_f64", np.max(np.abs(l32 - loss) / np.maximum(1, np.abs(loss))) < 1e-5)
    xm = rng.uniform(-6, 6, 1000)
    ym = (rng.uniform(size=xm.size) < 0.3).astype(np.float64)
    err = finite_difference_check(bce64, None, xm, ym)
    ok &= check("bce_f64 gradient = finite differences", err < 1e-6, f"max error {err:.1e}")
    for alpha, gamma in [(0.25, 2.0), (0.5, 1.5)]:
        err = finite_difference_check(focal64, FocalParams(alpha, gamma), xm, ym)
        ok &= check(f"focal_f64 gradient = finite differences (alpha={alpha}, gamma={gamma})", err < 1e-6, f"max error {err:.1e}")
    _, lf, _ = focal64(np.array([100.0, -100.0]), np.array([0.0, 1.0]))
    ok &= check("focal loss finite at x = +-100", bool(np.all(np.isfinite(lf))), f"{lf}")

    # 3. Logistic regression on an imbalanced problem (10% positives), float32 kernels.
    n, d = 20000, 8
    t = (rng.uniform(size=n) < 0.1).astype(np.float32)
    centers = np.where(t[:, None] > 0.5, 1.0, -1.0) * np.linspace(0.2, 1.0, d)
    X = (centers + rng.normal(size=(n, d))).astype(np.float32)
    for name, call, params in [("bce", bce32, None), ("focal", focal32, FocalParams(0.25, 2.0))]:
        history, accuracy = train(call, params, X, t)
        ok &= check(f"{name}: training loss decreases", history[-1] < 0.5 * history[0],
                    f"{history[0]:.4f} -> {history[-1]:.4f}")
        ok &= check(f"{name}: accuracy > 0.95", accuracy > 0.95, f"{accuracy:.4f}")

    # Timing, for information: the kernel against the same loss and gradient in numpy.
    xb = rng.uniform(-8, 8, 1 << 22).astype(np.float32)
    yb = (rng.uniform(size=xb.size) < 0.1).astype(np.float32)
    out = (np.empty_like(xb), np.empty_like(xb))
    focal32(xb, yb, out=out)  # warm up: page in the outputs
    t0 = time.perf_counter(); focal32(xb, yb, out=out); t1 = time.perf_counter()
    p = 1 / (1 + np.exp(-xb)); q = 1 - p
    lp, lq = -np.logaddexp(0, -xb), -np.logaddexp(0, xb)
    _ = -yb * 0.25 * q * q * lp - (1 - yb) * 0.75 * p * p * lq
    _ = yb * 0.25 * q * q * (2 * p * lp - q) + (1 - yb) * 0.75 * p * p * (p - 2 * q * lq)
    t2 = time.perf_counter()
    print(f"info  focal loss + gradient, float32, 4M elements: kernel via ctypes {1e9 * (t1 - t0) / xb.size:.2f} ns/element, "
          f"numpy {1e9 * (t2 - t1) / xb.size:.2f} ns/element")
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
