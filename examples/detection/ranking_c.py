"""A ranking `.loss` file as a torch module through lossc's C kernel (ctypes), on CPU.

The torch backend (`lossc emit --target torch`) did not yet emit ranking losses when the
detection proxy was written; `lossc build FILE` does: a shared library exporting
`double NAME_f64(int64_t n, const double *s, const double *y, const double *u, double *d_s,
double *d_u)`, the O(n log n) kernel returning the batch's loss and its gradients (AP-Loss's
error-driven update included). This wraps it in an autograd Function: forward copies s, y, u to
float64 numpy arrays and calls the kernel, backward scales the kernel's d_s and d_u.
Libraries are cached by the SHA-256 of the loss text, the params and the lossc binary.
"""
import ctypes
import hashlib
import os
import re
import subprocess
import tempfile

import numpy as np
import torch

_libs = {}


def _build(path, params):
    text = open(path, encoding="utf-8").read()
    lossc = os.environ["LOSSC"]
    st = os.stat(lossc)
    key = hashlib.sha256(repr((text, sorted(params.items()), lossc, st.st_size, st.st_mtime_ns)).encode()).hexdigest()[:32]
    if key in _libs:
        return _libs[key]
    cache = os.path.join(os.environ.get("LOSSC_TORCH_CACHE", os.path.join(tempfile.gettempdir(), "lossc-det")), "c")
    os.makedirs(cache, exist_ok=True)
    lib_path = os.path.join(cache, f"libloss_{key}.so")
    if not os.path.exists(lib_path):
        tmp = lib_path + f".{os.getpid()}.tmp.so"
        cmd = [lossc, "build", path, "-o", tmp, "--name", "loss"]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{r.stderr}")
        os.replace(tmp, lib_path)
    lib = ctypes.CDLL(lib_path)
    f = lib.loss_f64
    p = ctypes.POINTER(ctypes.c_double)
    f.argtypes = [ctypes.c_int64, p, p, p, p, p]
    f.restype = ctypes.c_double
    _libs[key] = f
    return f


def _ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


class _Ranking(torch.autograd.Function):
    @staticmethod
    def forward(ctx, s, y, u, kernel):
        sn = np.ascontiguousarray(s.detach().reshape(-1).to(torch.float64).numpy())
        yn = np.ascontiguousarray(y.detach().reshape(-1).to(torch.float64).numpy())
        un = np.ascontiguousarray(u.detach().reshape(-1).to(torch.float64).numpy())
        ds, du = np.zeros_like(sn), np.zeros_like(sn)
        loss = kernel(sn.size, _ptr(sn), _ptr(yn), _ptr(un), _ptr(ds), _ptr(du))
        ctx.save_for_backward(torch.from_numpy(ds).to(s.dtype).reshape(s.shape),
                              torch.from_numpy(du).to(u.dtype).reshape(u.shape))
        return s.new_tensor(loss)

    @staticmethod
    def backward(ctx, out):
        ds, du = ctx.saved_tensors
        return out * ds, None, out * du, None


class RankingLossC(torch.nn.Module):
    """forward(s, y, u=None): the batch's loss (scalar) of a ranking `.loss` file."""

    def __init__(self, path, **params):
        super().__init__()
        self.kernel = _build(path, params)

    def forward(self, s, y, u=None):
        if u is None:
            u = torch.zeros_like(s)
        return _Ranking.apply(s, y, u, self.kernel)


def is_ranking(path):
    with open(path, encoding="utf-8") as f:
        return any(re.match(r"\s*loss\s+\w+\s*:\s*ranking\b", line) for line in f)
