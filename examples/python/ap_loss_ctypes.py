#!/usr/bin/env python3
"""Use lossc's emitted C ranking kernel (AP-Loss) from Python with ctypes and numpy.

    lossc build examples/ap_loss.loss -o libap_loss.so
    python3 ap_loss_ctypes.py libap_loss.so

Calls ap_loss_f32 / ap_loss_f64 (and the _ws entries with a workspace reused across calls) on
numpy arrays and checks the loss and the error-driven gradient against an independent numpy
transcription of the official AP_loss (cccorn/AP-loss, lib/model/aploss.py, AP_loss():
delta = 1, interpolated AP, positives scanned by ascending score).

Exits 0 when every check passes, 1 otherwise.
"""
import ctypes
import sys

import numpy as np


def official_ap_loss(s, t, delta=1.0):
    """The official AP_loss pseudo-code: returns (loss, d loss / d s)."""
    s = s.astype(np.float64)
    g = np.zeros_like(s)
    if t.max() <= 0:
        return 0.0, g
    pos = np.flatnonzero(t == 1)
    neg = np.flatnonzero(t == 0)

    def f(x):
        return np.clip(x / (2 * delta) + 0.5, 0.0, 1.0)

    g_neg = np.zeros(len(neg))
    prec = np.zeros(len(pos))
    maxp = 0.0
    for k in np.argsort(s[pos], kind="stable"):
        i = pos[k]
        a = f(s[pos] - s[i]).sum() + 0.5  # rank+(i): the self term f(0) = 1/2 is in the sum
        r = f(s[neg] - s[i])
        b = r.sum()
        cur = a / (a + b)
        w = r / (a + b)
        if maxp <= cur:
            maxp = cur
        else:
            w = w * (1 - maxp) / (1 - cur)
        g_neg += w
        prec[k] = maxp
    g[neg] = g_neg
    g[pos] = -(1 - prec)
    return 1 - prec.mean(), g / len(pos)


def kernel(lib, name, dtype):
    """double NAME(int64_t n, const T *s, const T *y, const T *u, T *d_s, T *d_u)."""
    p = ctypes.POINTER(ctypes.c_float if dtype == np.float32 else ctypes.c_double)
    f = getattr(lib, name)
    f.argtypes = [ctypes.c_int64, p, p, p, p, p]
    f.restype = ctypes.c_double
    fw = getattr(lib, name + "_ws")
    fw.argtypes = [ctypes.c_void_p] + f.argtypes
    fw.restype = ctypes.c_double

    def call(s, y, ws=None):
        s = np.ascontiguousarray(s, dtype=dtype)
        y = np.ascontiguousarray(y, dtype=dtype)
        g = np.zeros_like(s)
        args = [len(s), s.ctypes.data_as(p), y.ctypes.data_as(p), None, g.ctypes.data_as(p), None]
        loss = fw(ws, *args) if ws else f(*args)
        return loss, g
    return call


def main():
    lib = ctypes.CDLL(sys.argv[1] if len(sys.argv) > 1 else "./libap_loss.so")
    lib.ap_loss_workspace_new.restype = ctypes.c_void_p
    lib.ap_loss_workspace_free.argtypes = [ctypes.c_void_p]
    ws = lib.ap_loss_workspace_new()
    rng = np.random.default_rng(7)
    ok = True
    for n, p_pos in [(50, 0.2), (2000, 0.05), (20000, 0.01), (300, 0.0)]:
        c = rng.random(n)
        y = np.where(c < p_pos, 1.0, np.where(c < p_pos + 0.1, -1.0, 0.0))
        s = rng.normal(size=n) + (y == 1)
        want_loss, want_g = official_ap_loss(s, y)
        for dtype, tol in [(np.float64, 1e-10), (np.float32, 1e-4)]:
            for use_ws in (None, ws):
                loss, g = kernel(lib, "ap_loss_f64" if dtype == np.float64 else "ap_loss_f32", dtype)(s, y, use_ws)
                scale = max(1e-12, np.abs(want_g).max())
                err = max(abs(loss - want_loss), np.abs(g - want_g).max() / scale)
                good = err <= tol and abs(g.sum()) <= tol * max(1.0, np.abs(g).sum())
                ok &= good
                print(f"n={n:6d} {np.dtype(dtype).name} {'workspace' if use_ws else 'per call '}: "
                      f"loss {loss:.6f} (official {want_loss:.6f}), max error {err:.1e}, "
                      f"sum of gradients {g.sum():+.1e} {'ok' if good else 'MISMATCH'}")
    lib.ap_loss_workspace_free(ws)
    print("all checks passed" if ok else "some checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
