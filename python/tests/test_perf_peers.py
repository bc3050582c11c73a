"""bench/peers.py computes what it claims to time, against torch/torchvision (independent):
the default-built lossc library (1 and 2 threads, same sum bits) and the NumPy peer give the
value and gradient of torchvision's focal and GIoU losses and torch's BCE and cross-entropy.
The script itself runs small and prints its rows. No timing is asserted."""
import ctypes
import importlib.util
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")


def load_peers():
    spec = importlib.util.spec_from_file_location("peers", REPO / "bench" / "peers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOSSES = ["focal", "bce", "cross_entropy", "giou"]


def reference(peers, loss, d):
    """torch/torchvision value (float64) and gradient of the loss on the peers' data."""
    tl = peers.torch_losses(torch)
    if loss == "cross_entropy":
        a, b = torch.from_numpy(d["cx"]).double().requires_grad_(), torch.from_numpy(d["label"])
    elif loss == "giou":
        a, b = torch.from_numpy(d["pred"]).double().requires_grad_(), torch.from_numpy(d["target"]).double()
    else:
        a, b = torch.from_numpy(d["x"]).double().requires_grad_(), torch.from_numpy(d["y"]).double()
    v = tl[loss](a, b)
    (g,) = torch.autograd.grad(v, a)
    return float(v.detach()), g.numpy()


@pytest.mark.parametrize("loss", LOSSES)
def test_numpy_peer_matches_torch(loss):
    peers = load_peers()
    d = peers.data(8000, seed=1)
    value, grad = peers.numpy_fn(loss, d)()
    ref_v, ref_g = reference(peers, loss, d)
    assert value == pytest.approx(ref_v, rel=1e-4)
    np.testing.assert_allclose(np.asarray(grad, np.float64).reshape(ref_g.shape), ref_g, rtol=2e-3, atol=2e-5)


def test_lossc_library_matches_torch_and_threads_keep_bits(lossc, tmp_path):
    peers = load_peers()
    lc = peers.Lossc(lossc, str(tmp_path))
    d = peers.data(300_000, seed=2)  # past several chunks, so 2 threads really split the work
    for loss in LOSSES:
        ref_v, ref_g = reference(peers, loss, d)
        sums = []
        for threads in (1, 2, 3):
            run = lc.fn(loss, d, threads)
            sums.append(run())
        assert sums[0] == sums[1] == sums[2], f"{loss}: sums differ across thread counts: {sums}"
        assert sums[0] == pytest.approx(ref_v, rel=1e-4), loss
        # the gradient: one more call with a buffer of our own
        lib = lc.libs[loss]
        P = lambda a: a.ctypes.data_as(ctypes.c_void_p)
        if loss == "cross_entropy":
            g = np.empty_like(d["cx"])
            w = np.ones(len(d["cx"]), np.float32)
            lib.cross_entropy_labels_f32(ctypes.c_size_t(len(d["cx"])), ctypes.c_size_t(peers.CLASSES), P(d["cx"]), P(d["label"]), P(w), None, None, P(g))
        elif loss == "giou":
            g = np.empty_like(d["pred"])
            lib.giou_f32(ctypes.c_size_t(len(d["pred"])), P(d["pred"]), P(d["target"]), None, None, P(g))
        else:
            g = np.empty_like(d["x"])
            getattr(lib, f"{loss}_f32")(ctypes.c_size_t(d["x"].size), P(d["x"]), P(d["y"]), None, None, None, P(g))
        np.testing.assert_allclose(g.astype(np.float64), ref_g, rtol=2e-3, atol=2e-5, err_msg=loss)


def test_script_prints_rows_and_skips(lossc):
    r = subprocess.run([sys.executable, str(REPO / "bench" / "peers.py"), "--elements", "20000", "--repeat", "1",
                        "--peers", "lossc,numpy", "--lossc", lossc], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines() if line.startswith(tuple(LOSSES))]
    assert len(rows) == 4 * 3, r.stdout  # lossc 1 and 2 threads, numpy, per loss
    assert all(row[-1] == "1.00" for row in rows if row[1] == "lossc"), r.stdout
