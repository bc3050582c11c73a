#!/usr/bin/env python3
"""Side-by-side: the library `lossc build` makes (default flags, through ctypes, 1 and 2
threads) against what a user would pick instead -- torch eager (torchvision's op where one
exists), torch.compile, JAX jit(value_and_grad), NumPy -- in one process, on the same float32
data, value + gradient, for focal, BCE, cross-entropy (C = 81) and GIoU. Cross-entropy reads
int64 class labels everywhere (as torch's F.cross_entropy does; lossc: NAME_labels_f32).

Prints ns per element (a logit for focal/BCE/CE, a box for GIoU), best of --repeat runs, and
each peer's time over lossc's at the same thread count. A peer that is not installed is
skipped with a line saying so. Timings are wall clock: on a shared machine, run it when idle.

    python3 bench/peers.py --elements 4000000 --repeat 5
    python3 bench/peers.py --fma      # the libraries built with `lossc build --fma`
"""
import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

# JAX fixes its thread pool at import: one thread, so it is compared at one thread only.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALPHA, GAMMA, CLASSES = 0.25, 2.0, 81


def best_of(fn, repeat):
    fn()  # warm-up (compiles, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def data(elements, seed=0):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    d = {}
    d["x"] = rng.normal(0, 3, elements).astype(f32)
    d["y"] = (rng.random(elements) < 0.1).astype(f32)
    rows = elements // CLASSES
    d["cx"] = rng.normal(0, 3, (rows, CLASSES)).astype(f32)
    d["label"] = rng.integers(0, CLASSES, rows)  # int64
    boxes = elements // 4
    p = rng.random((boxes, 2)) * 500
    wh = 1 + rng.random((boxes, 2)) * 300
    t = p + rng.normal(0, 30, (boxes, 2))
    twh = 1 + rng.random((boxes, 2)) * 300
    d["pred"] = np.concatenate([p, p + wh], 1).astype(f32)
    d["target"] = np.concatenate([t, t + twh], 1).astype(f32)
    return d


def count(loss, d):
    return {"focal": d["x"].size, "bce": d["x"].size, "cross_entropy": d["cx"].size, "giou": len(d["pred"])}[loss]


# ---- lossc ----------------------------------------------------------------------------

class Lossc:
    def __init__(self, lossc, tmp, fma=False):
        self.libs = {}
        for name in ["focal", "bce", "cross_entropy", "giou"]:
            so = os.path.join(tmp, f"lib{name}.so")
            subprocess.run([lossc, "build", os.path.join(ROOT, "examples", f"{name}.loss"), "-o", so] + (["--fma"] if fma else []),
                           check=True, capture_output=True)
            lib = ctypes.CDLL(so)
            getattr(lib, f"{name}_f32").restype = ctypes.c_double
            if name == "cross_entropy":
                lib.cross_entropy_labels_f32.restype = ctypes.c_double
            getattr(lib, f"{name}_set_isa").restype = ctypes.c_int
            self.libs[name] = lib
        self.isa = self.libs["focal"].focal_set_isa(-1)

    def fn(self, loss, d, threads):
        lib = self.libs[loss]
        getattr(lib, f"{loss}_set_threads")(threads)
        f = getattr(lib, f"{loss}_f32")
        P = lambda a: a.ctypes.data_as(ctypes.c_void_p)
        if loss == "cross_entropy":
            rows = d["cx"].shape[0]
            g = np.empty_like(d["cx"])
            w = np.ones(rows, np.float32)
            f = lib.cross_entropy_labels_f32
            return lambda: f(ctypes.c_size_t(rows), ctypes.c_size_t(CLASSES), P(d["cx"]), P(d["label"]), P(w), None, None, P(g))
        if loss == "giou":
            g = np.empty_like(d["pred"])
            return lambda: f(ctypes.c_size_t(len(d["pred"])), P(d["pred"]), P(d["target"]), None, None, P(g))
        g = np.empty_like(d["x"])
        return lambda: f(ctypes.c_size_t(d["x"].size), P(d["x"]), P(d["y"]), None, None, None, P(g))


# ---- NumPy (value + hand-derived gradient) ---------------------------------------------

def numpy_fn(loss, d):
    if loss in ("focal", "bce"):
        x, y = d["x"], d["y"]

        def run():
            p = 1 / (1 + np.exp(-x))
            sp_pos = np.logaddexp(0, x)       # softplus(x) = -log(1 - p)
            sp_neg = sp_pos - x               # softplus(-x) = -log(p)
            if loss == "bce":
                return float(np.sum(y * sp_neg + (1 - y) * sp_pos, dtype=np.float64)), p - y
            q = 1 - p
            pos, neg = ALPHA * q * q * sp_neg, (1 - ALPHA) * p * p * sp_pos
            v = np.sum(y * pos + (1 - y) * neg, dtype=np.float64)
            g = y * ALPHA * (-2 * q * p * q * sp_neg - q * q * q) + (1 - y) * (1 - ALPHA) * (2 * p * p * q * sp_pos + p * p * p)
            return float(v), g
        return run
    if loss == "cross_entropy":
        x, label = d["cx"], d["label"]
        rows = np.arange(len(label))

        def run():
            m = x.max(1, keepdims=True)
            e = np.exp(x - m)
            s = e.sum(1, keepdims=True)
            logp = x[rows, label] - m[:, 0] - np.log(s[:, 0])
            g = e / s
            g[rows, label] -= 1
            return float(-np.sum(logp, dtype=np.float64)), g
        return run
    p, t = d["pred"], d["target"]

    def run():
        px1, py1, px2, py2 = p.T
        tx1, ty1, tx2, ty2 = t.T
        iw = np.clip(np.minimum(px2, tx2) - np.maximum(px1, tx1), 0, None)
        ih = np.clip(np.minimum(py2, ty2) - np.maximum(py1, ty1), 0, None)
        i = iw * ih
        u = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - i + 1e-7
        ew = np.maximum(px2, tx2) - np.minimum(px1, tx1)
        eh = np.maximum(py2, ty2) - np.minimum(py1, ty1)
        e = ew * eh + 1e-7
        v = np.sum(1 - (i / u - (e - u) / e), dtype=np.float64)
        # gradient through i, u, e (the chain rule by hand, as an autodiff would)
        # L = 2 - i/u - u/e with u = ap + at - i + eps: dL/du, dL/di (direct and through u), dL/de
        dl_du = i / (u * u) - 1 / e
        dl_di = -1 / u - dl_du
        dl_de = u / (e * e)
        f = lambda c: c.astype(np.float32)
        inx, iny = f(iw > 0), f(ih > 0)
        g = np.empty_like(p)
        g[:, 0] = -dl_du * (py2 - py1) - dl_di * ih * inx * f(px1 > tx1) - dl_de * eh * f(px1 < tx1)
        g[:, 1] = -dl_du * (px2 - px1) - dl_di * iw * iny * f(py1 > ty1) - dl_de * ew * f(py1 < ty1)
        g[:, 2] = dl_du * (py2 - py1) + dl_di * ih * inx * f(px2 < tx2) + dl_de * eh * f(px2 > tx2)
        g[:, 3] = dl_du * (px2 - px1) + dl_di * iw * iny * f(py2 < ty2) + dl_de * ew * f(py2 > ty2)
        return float(v), g
    return run


# ---- torch --------------------------------------------------------------------------------

def torch_losses(torch):
    import torch.nn.functional as F
    try:
        from torchvision.ops import sigmoid_focal_loss, generalized_box_iou_loss
    except ImportError:
        sigmoid_focal_loss = generalized_box_iou_loss = None

    def focal(x, y):
        if sigmoid_focal_loss is not None:
            return sigmoid_focal_loss(x, y, alpha=ALPHA, gamma=GAMMA, reduction="sum")
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        pt = p * y + (1 - p) * (1 - y)
        return ((ALPHA * y + (1 - ALPHA) * (1 - y)) * ce * (1 - pt) ** GAMMA).sum()

    def giou(p, t):
        if generalized_box_iou_loss is not None:
            return generalized_box_iou_loss(p, t, reduction="sum", eps=1e-7)
        raise RuntimeError("torchvision missing")

    return {
        "focal": focal,
        "bce": lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
        "cross_entropy": lambda x, label: F.cross_entropy(x, label, reduction="sum"),
        "giou": giou,
    }


def torch_fn(torch, f, loss, d):
    if loss == "cross_entropy":
        a, b = torch.from_numpy(d["cx"]).requires_grad_(), torch.from_numpy(d["label"])
    elif loss == "giou":
        a, b = torch.from_numpy(d["pred"]).requires_grad_(), torch.from_numpy(d["target"])
    else:
        a, b = torch.from_numpy(d["x"]).requires_grad_(), torch.from_numpy(d["y"])

    def run():
        v = f(a, b)
        (g,) = torch.autograd.grad(v, a)
        return v, g
    return run


# ---- JAX ----------------------------------------------------------------------------------

def jax_fn(jax, loss, d):
    jnp = jax.numpy

    def focal(x, y):
        p = jax.nn.sigmoid(x)
        ce = jnp.logaddexp(0.0, x) - x * y
        pt = p * y + (1 - p) * (1 - y)
        return jnp.sum((ALPHA * y + (1 - ALPHA) * (1 - y)) * ce * (1 - pt) ** 2)

    def bce(x, y):
        return jnp.sum(jnp.logaddexp(0.0, x) - x * y)

    def ce(x, label):
        return -jnp.sum(jnp.take_along_axis(jax.nn.log_softmax(x, axis=1), label[:, None], axis=1))

    def giou(p, t):
        iw = jnp.clip(jnp.minimum(p[:, 2], t[:, 2]) - jnp.maximum(p[:, 0], t[:, 0]), 0)
        ih = jnp.clip(jnp.minimum(p[:, 3], t[:, 3]) - jnp.maximum(p[:, 1], t[:, 1]), 0)
        i = iw * ih
        u = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1]) + (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1]) - i + 1e-7
        e = (jnp.maximum(p[:, 2], t[:, 2]) - jnp.minimum(p[:, 0], t[:, 0])) * \
            (jnp.maximum(p[:, 3], t[:, 3]) - jnp.minimum(p[:, 1], t[:, 1])) + 1e-7
        return jnp.sum(1 - (i / u - (e - u) / e))

    f, keys = {"focal": (focal, ("x", "y")), "bce": (bce, ("x", "y")), "cross_entropy": (ce, ("cx", "label")),
               "giou": (giou, ("pred", "target"))}[loss]
    vg = jax.jit(jax.value_and_grad(f))
    a, b = jnp.asarray(d[keys[0]]), jnp.asarray(d[keys[1]])
    return lambda: jax.block_until_ready(vg(a, b))


# ---- main ---------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", type=int, default=4_000_000, help="logits per loss (GIoU: a quarter as many boxes)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lossc", default=os.environ.get("LOSSC") or shutil.which("lossc")
                    or os.path.join(ROOT, ".build", "debug", "lossc"))
    ap.add_argument("--losses", default="focal,bce,cross_entropy,giou")
    ap.add_argument("--peers", default="lossc,torch,compile,jax,numpy",
                    help="which to time (comma list of lossc, torch, compile, jax, numpy)")
    ap.add_argument("--fma", action="store_true", help="build the lossc libraries with `lossc build --fma`")
    args = ap.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":   # the docs test checks the command line only
        return 0
    warnings.filterwarnings("ignore")  # torch.compile's graph-break notes would bury the table
    d = data(args.elements)
    losses = args.losses.split(",")

    peers = []  # (name, threads, factory(loss) -> callable)
    tmp = tempfile.mkdtemp(prefix="lossc-peers-")
    try:
        lc = Lossc(args.lossc, tmp, fma=args.fma)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"lossc: cannot build the libraries with {args.lossc}: {e}", file=sys.stderr)
        return 2
    wanted = set(args.peers.split(","))
    isa_name = ["baseline", "avx2", "avx512"][lc.isa] if 0 <= lc.isa <= 2 else str(lc.isa)
    for t in (1, 2):
        peers.append((f"lossc build{' --fma' if args.fma else ''} ({isa_name})", t, lambda loss, t=t: lc.fn(loss, d, t)))
    if wanted & {"torch", "compile"}:
        try:
            import torch
            tl = torch_losses(torch)
            if "torch" in wanted:
                for t in (1, 2):
                    peers.append(("torch eager", t, lambda loss, t=t: (torch.set_num_threads(t), torch_fn(torch, tl[loss], loss, d))[1]))
            if "compile" in wanted:
                for t in (1, 2):
                    compiled = {k: torch.compile(v) for k, v in tl.items()}
                    peers.append(("torch.compile", t, lambda loss, t=t, c=compiled: (torch.set_num_threads(t), torch_fn(torch, c[loss], loss, d))[1]))
            print(f"torch {torch.__version__}")
        except ImportError:
            print("SKIPPED: torch eager and torch.compile (torch is not installed)")
    if "jax" in wanted:
        try:
            import jax
            peers.append(("jax jit(value_and_grad)", 1, lambda loss: jax_fn(jax, loss, d)))
            print(f"jax {jax.__version__} (1 thread: XLA_FLAGS={os.environ['XLA_FLAGS']})")
        except ImportError:
            print("SKIPPED: JAX (jax is not installed)")
    if "numpy" in wanted:
        peers.append(("numpy", 1, lambda loss: numpy_fn(loss, d)))

    print(f"value + gradient, float32, {args.elements} logits (GIoU {args.elements // 4} boxes), best of {args.repeat}; "
          f"ratio = peer time / lossc time at the same thread count (> 1: lossc is faster)")
    print(f"{'loss':<14} {'peer':<26} {'thr':>3} {'ns/elem':>9} {'ratio':>7}")
    for loss in losses:
        base = {}
        for name, t, make in peers:
            try:
                fn = make(loss)
                s = best_of(fn, args.repeat)
            except Exception as e:  # a peer failing must not hide the others
                print(f"{loss:<14} {name:<26} {t:>3}   failed: {type(e).__name__}: {str(e)[:80]}")
                continue
            ns = s * 1e9 / count(loss, d)
            if name.startswith("lossc"):
                base[t] = ns
            ratio = ns / base[t] if t in base else float("nan")
            print(f"{loss:<14} {name:<26} {t:>3} {ns:9.2f} {ratio:7.2f}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
