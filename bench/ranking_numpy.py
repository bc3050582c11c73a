#!/usr/bin/env python3
"""The emitted C AP-Loss kernel (`lossc build examples/ap_loss.loss`, through ctypes) against the
official AP-Loss in NumPy, in one process on the same float32 batch, value + gradient.

The official method (cccorn/AP-loss, lib/model/aploss.py, AP_loss()) loops over the positives by
ascending score, one vectorized pass over the batch's positives and negatives per positive, with
the running interpolation max of the error-driven update: O(P*N). Written here in NumPy
without loops over entries, as the official code is in torch. At --positives 0.0009 (about 900
positives in 1M entries) every positive is timed; the kernel (with a workspace kept between
calls, as in a training loop) buckets the entries between thresholds (no sort of the batch):
O(N) passes plus O(P log P).
Both losses are printed: the same definition gives the same loss to float32 rounding.

    python bench/ranking_numpy.py --n 1000000 --positives 0.0009 --reps 3
"""
import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def official_ap_loss(s, y, delta=1.0):
    """AP_loss as the official code computes it; returns (loss, d loss / d s)."""
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y == 0)
    order = pos[np.argsort(s[pos], kind="stable")]
    sp, sn = s[pos], s[neg]
    g_neg = np.zeros_like(sn)
    g = np.zeros_like(s)
    maxp, total = 0.0, 0.0
    for i in order:
        si = s[i]
        a = np.clip((sp - si) / (2 * delta) + 0.5, 0, 1).sum() + 0.5
        r = np.clip((sn - si) / (2 * delta) + 0.5, 0, 1)
        b = r.sum()
        cur = a / (a + b)
        w = r / (a + b)
        if maxp <= cur:
            maxp = cur
            g_neg += w
        else:
            g_neg += w * ((1 - maxp) / (1 - cur))
        g[i] = -(1 - maxp)
        total += 1 - maxp
    g[neg] = g_neg
    return total / len(pos), g / len(pos)


def best(f, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--positives", type=float, default=0.0009, help="share of positives (10%% more are ignored)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="thread counts of the C kernel to time (NAME_set_threads; NumPy's method is single-threaded)")
    ap.add_argument("--lossc", default=os.environ.get("LOSSC") or shutil.which("lossc")
                    or os.path.join(ROOT, ".build", "debug", "lossc"))
    args = ap.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":   # the docs test checks the command line only
        return 0
    rng = np.random.default_rng(0)
    s = (rng.standard_normal(args.n) * 2).astype(np.float32)
    c = rng.random(args.n)
    y = np.where(c < args.positives, 1, np.where(c < args.positives + 0.1, -1, 0)).astype(np.float32)
    tmp = tempfile.mkdtemp(prefix="lossc-ranking-")
    try:
        so = os.path.join(tmp, "libap.so")
        subprocess.run([args.lossc, "build", os.path.join(ROOT, "examples", "ap_loss.loss"), "-o", so, "--name", "ap"],
                       check=True, capture_output=True)
        lib = ctypes.CDLL(so)
        lib.ap_f32_ws.restype = ctypes.c_double
        lib.ap_workspace_new.restype = ctypes.c_void_p
        ws = ctypes.c_void_p(lib.ap_workspace_new())  # kept across calls, as a training loop would
        d = np.empty_like(s)
        P = lambda a: a.ctypes.data_as(ctypes.c_void_p)
        kernel = lambda: lib.ap_f32_ws(ws, ctypes.c_int64(args.n), P(s), P(y), None, P(d), None)
        times = {}
        for t in args.threads:
            lib.ap_set_threads(ctypes.c_int(t))
            kernel()  # warm-up: page in the buffers
            times[t], loss_c = best(kernel, args.reps)
        tn, (loss_n, g_n) = best(lambda: official_ap_loss(s, y), args.reps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    npos = int((y == 1).sum())
    print(f"AP-Loss, {args.n} entries, {npos} positives, float32, value + gradient, best of {args.reps}")
    print(f"loss: C kernel {loss_c:.6f}, official in NumPy {loss_n:.6f}; "
          f"gradient max |diff| / max |g| = {np.abs(d - g_n).max() / np.abs(g_n).max():.1e}")
    print("| C kernel, threads | C kernel (ms) | official, NumPy (ms) | ratio |\n|---:|---:|---:|---:|")
    for t, tc in times.items():
        print(f"| {t} | {tc * 1e3:.1f} | {tn * 1e3:.0f} | {tn / tc:.0f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
