"""bench/ranking_numpy.py times what it claims: its NumPy port of the official AP-Loss (one
vectorized pass per positive, cccorn/AP-loss AP_loss()) and the default-built C kernel give the
same loss and gradient on the same batch, and the script runs small and prints its row. No
timing is asserted."""
import ctypes
import importlib.util
import subprocess
import sys

import numpy as np

from conftest import REPO


def load_bench():
    spec = importlib.util.spec_from_file_location("ranking_numpy", REPO / "bench" / "ranking_numpy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_official_numpy_port_matches_the_c_kernel(lossc, tmp_path):
    bench = load_bench()
    rng = np.random.default_rng(4)
    n = 20_000
    s = (rng.standard_normal(n) * 2).astype(np.float64)
    c = rng.random(n)
    y = np.where(c < 0.01, 1, np.where(c < 0.11, -1, 0)).astype(np.float64)
    loss, grad = bench.official_ap_loss(s, y)
    so = tmp_path / "libap.so"
    subprocess.run([lossc, "build", str(REPO / "examples" / "ap_loss.loss"), "-o", str(so), "--name", "ap"],
                   check=True, capture_output=True)
    lib = ctypes.CDLL(str(so))
    lib.ap_f64.restype = ctypes.c_double
    d = np.empty_like(s)
    P = lambda a: a.ctypes.data_as(ctypes.c_void_p)
    value = lib.ap_f64(ctypes.c_int64(n), P(s), P(y), None, P(d), None)
    assert abs(value - loss) <= 1e-12 * abs(loss)
    np.testing.assert_allclose(d, grad, rtol=1e-9, atol=1e-12 * np.abs(grad).max())


def test_script_prints_its_row(lossc):
    out = subprocess.run([sys.executable, str(REPO / "bench" / "ranking_numpy.py"), "--n", "20000", "--positives", "0.005",
                          "--reps", "1", "--lossc", lossc], check=True, capture_output=True, text=True).stdout
    assert "official in NumPy" in out and "| C kernel (ms) |" in out
