"""The emitted torch ranking modules (`lossc emit RANKINGFILE --target torch`): every ranking
example against lossc's O(P.N) reference (`lossc eval --oracle --precision f64`) on batches
with ties on a score grid (at AP-Loss's breakpoints d = +-delta), ignored entries, no positive,
all ignored and one positive (values, d_s and d_u; float64 tight, float32 loose), and AP-Loss
against a vectorized torch transcription of the official AP_loss forward and backward."""
import csv
import os
import io
import subprocess

import pytest
import torch

import _torch_support as ts

RANKING = ["ap_loss", "pap_retinanet", "pap_retinanet_4fn", "smooth_ap"]


FORMULAS = sorted((ts.REPO / "Tests" / "RankingFormulas").glob("*.loss"))


def path_of(name):
    return ts.EXAMPLES / (name + ".loss") if name in RANKING else ts.REPO / "Tests" / "RankingFormulas" / name


def ranking_module(lossc, name, **params):
    return ts.module(lossc, str(path_of(name)), **params)


def reference(lossc, name, s, y, u, tmp_path, params=()):
    """lossc's pair-by-pair reference in float64: (loss, d_s, d_u or None)."""
    path = tmp_path / "batch.csv"
    with open(path, "w") as f:
        f.write("s,y,u\n")
        for row in torch.stack([s, y, u], 1).tolist():
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    out = subprocess.run([lossc, "eval", str(path_of(name)), "--data", str(path),
                          "--oracle", "--precision", "f64"] + ["--param=%s=%r" % p for p in params],
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    loss = float([line for line in lines if line.startswith("# loss,")][0].split(",")[1])
    rows = [line for line in lines if line and not line.startswith("#")]
    header = rows[0].split(",")
    table = torch.tensor([[float(v) for v in r] for r in csv.reader(io.StringIO("\n".join(rows[1:])))],
                         dtype=torch.float64).reshape(-1, len(header))
    d_u = table[:, header.index("d_u")] if "d_u" in header else None
    return loss, table[:, header.index("d_s")], d_u


def batch(kind, n=60, seed=3):
    """(s, y, u) float64: scores on a 0.25 grid (ties, and pairs exactly at d = +-1), labels
    1 / 0 / -1, qualities in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    s = torch.randint(-8, 9, (n,), generator=g).double() / 4
    c = torch.rand(n, generator=g, dtype=torch.float64)
    y = torch.where(c < 0.25, 1.0, torch.where(c < 0.35, -1.0, 0.0)).double()
    u = torch.rand(n, generator=g, dtype=torch.float64)
    if kind == "no_positive":
        y = torch.where(y == 1, 0.0, y)
    elif kind == "all_ignored":
        y = torch.full_like(y, -1.0)
    elif kind == "one_positive":
        y = torch.where(y == 1, 0.0, y)
        y[5] = 1.0
    elif kind == "continuous":
        s = s + torch.randn(n, generator=g, dtype=torch.float64) * 0.3
    return s, y, u


def run(mod, s, y, u, dtype, shape=None):
    """The module's loss and gradients (s and u as `shape`, pooled by the module)."""
    shape = shape or s.shape
    s_ = s.to(dtype).reshape(shape).detach().requires_grad_(True)
    u_ = u.to(dtype).reshape(shape).detach().requires_grad_(True)
    loss = mod.Loss()(s_, y.to(dtype).reshape(shape), u_)
    loss.backward()
    return loss.detach(), s_.grad.reshape(-1), u_.grad.reshape(-1)


KINDS = ["grid", "continuous", "no_positive", "all_ignored", "one_positive"]
# the examples, and formulas exercising every rule of the pair analysis (per-entry and
# per-positive factors, anchor slots inside pairs, conditions, general intervals, top-k)
CASES = [(name, kind) for name in RANKING for kind in KINDS] + [(p.name, kind) for p in FORMULAS for kind in ["grid", "continuous"]]


@pytest.mark.parametrize("name,kind", CASES)
def test_float64_matches_lossc_reference(lossc, tmp_path, name, kind):
    mod = ranking_module(lossc, name)
    assert mod.KIND == "ranking"
    s, y, u = batch(kind)
    loss, d_s, d_u = reference(lossc, name, s, y, u, tmp_path)
    value, gs, gu = run(mod, s, y, u, torch.float64, shape=(3, 20))
    assert value.dtype == torch.float64 and value.dim() == 0
    ts.assert_close(value.reshape(1), torch.tensor([loss], dtype=torch.float64), 1e-10, 1e-12, name + " loss")
    ts.assert_close(gs, d_s, 1e-9, 1e-12, name + " d_s")
    assert mod.REACHES_U == (d_u is not None)
    ts.assert_close(gu, d_u if d_u is not None else torch.zeros_like(gu), 1e-9, 1e-12, name + " d_u")


@pytest.mark.parametrize("name", RANKING)
def test_float32_matches_lossc_reference(lossc, tmp_path, name):
    mod = ranking_module(lossc, name)
    s, y, u = batch("grid", n=80, seed=5)
    loss, d_s, d_u = reference(lossc, name, s, y, u, tmp_path)
    value, gs, gu = run(mod, s, y, u, torch.float32)
    assert value.dtype == torch.float32 and gs.dtype == torch.float32
    ts.assert_close(value.reshape(1), torch.tensor([loss], dtype=torch.float64), 1e-4, 1e-5, name + " loss")
    # smooth_ap's tau = 0.01 makes d/tau steep: float32 scores lose digits there
    tol = 1e-2 if name == "smooth_ap" else 1e-4
    ts.assert_close(gs, d_s, tol, 1e-5, name + " d_s")
    if d_u is not None:
        ts.assert_close(gu, d_u, 1e-4, 1e-5, name + " d_u")


def test_half_precision_computes_in_float32(lossc):
    mod = ranking_module(lossc, "ap_loss")
    s, y, u = batch("continuous", n=40, seed=11)
    got = mod.Loss()(s.to(torch.bfloat16), y.to(torch.bfloat16))
    assert got.dtype == torch.bfloat16
    # float32 on the bfloat16-rounded scores, rounded once to bfloat16 at the end
    want = mod.Loss()(s.to(torch.bfloat16).float(), y.float())
    assert abs(got.float().item() - want.item()) <= 1e-2 * abs(want.item())


@pytest.mark.parametrize("name,params", [("ap_loss", {"delta": 0.5}), ("ap_loss", {"delta": 2.0}),
                                         ("pap_retinanet", {"num_topk": 20}), ("pap_retinanet_4fn", {"num_topk": 9}),
                                         ("smooth_ap", {"tau": 0.5})])
def test_emitted_params_match_lossc_reference(lossc, tmp_path, name, params):
    # other breakpoints, and top(valid, K) cutting inside a group of tied scores
    mod = ranking_module(lossc, name, **params)
    s, y, u = batch("grid", seed=19)
    loss, d_s, d_u = reference(lossc, name, s, y, u, tmp_path, sorted(params.items()))
    value, gs, gu = run(mod, s, y, u, torch.float64)
    ts.assert_close(value.reshape(1), torch.tensor([loss], dtype=torch.float64), 1e-10, 1e-12, name + " loss")
    ts.assert_close(gs, d_s, 1e-9, 1e-12, name + " d_s")
    ts.assert_close(gu, d_u if d_u is not None else torch.zeros_like(gu), 1e-9, 1e-12, name + " d_u")


def test_params_are_fixed_at_emission(lossc, tmp_path):
    mod = ranking_module(lossc, "ap_loss", delta=0.5)
    assert mod.PARAMS == {"delta": 0.5}
    s, y, u = batch("grid", seed=13)
    path = tmp_path / "batch.csv"
    with open(path, "w") as f:
        f.write("s,y\n" + "".join("%r,%r\n" % (a, b) for a, b in zip(s.tolist(), y.tolist())))
    out = subprocess.run([lossc, "eval", str(ts.EXAMPLES / "ap_loss.loss"), "--data", str(path), "--oracle",
                          "--precision", "f64", "--param", "delta=0.5"], capture_output=True, text=True, check=True).stdout
    loss = float([line for line in out.splitlines() if line.startswith("# loss,")][0].split(",")[1])
    value, _, _ = run(mod, s, y, u, torch.float64)
    assert abs(value.item() - loss) < 1e-12


def test_labels_do_not_take_gradients(lossc):
    mod = ranking_module(lossc, "ap_loss")
    s, y, _ = batch("grid")
    with pytest.raises(ValueError, match="y requires grad"):
        mod.Loss()(s.requires_grad_(True), y.requires_grad_(True))


def official_ap_loss(s, t, delta=1.0):
    """The official AP_loss (cccorn/AP-loss, lib/model/aploss.py, AP_loss()) vectorized over
    the positives: the same f, interpolated precision by ascending positive score, and the
    error-driven update (positive i: -(1 - prec_i)/|P|; negative j: sum_i L_ij/|P|).
    Returns (loss, d loss / d s). Distinct positive scores assumed (the official loop breaks
    ties among positives by order)."""
    g = torch.zeros_like(s)
    if t.max() <= 0:
        return torch.zeros((), dtype=s.dtype), g
    pos = torch.nonzero(t == 1).flatten()
    neg = torch.nonzero(t == 0).flatten()
    pos = pos[torch.argsort(s[pos], stable=True)]

    def f(x):
        return torch.clamp(x / (2 * delta) + 0.5, 0.0, 1.0)

    a = f(s[pos][None, :] - s[pos][:, None]).sum(1) + 0.5  # rank+(i), self term f(0) = 1/2 counted
    r = f(s[neg][None, :] - s[pos][:, None])  # [P, N]
    b = r.sum(1)
    cur = a / (a + b)
    maxp = torch.cummax(cur, 0).values
    scale = torch.where(maxp <= cur, torch.ones_like(cur), (1 - maxp) / (1 - cur))
    g[neg] = (scale[:, None] * r / (a + b)[:, None]).sum(0) / len(pos)
    g[pos] = -(1 - maxp) / len(pos)
    return 1 - maxp.mean(), g


@pytest.mark.parametrize("n,p", [(200, 0.1), (2000, 0.02), (50, 0.5)])
def test_ap_loss_matches_official_formulation(lossc, n, p):
    mod = ranking_module(lossc, "ap_loss")
    g = torch.Generator().manual_seed(n)
    s = torch.randn(n, generator=g, dtype=torch.float64) * 2
    c = torch.rand(n, generator=g, dtype=torch.float64)
    y = torch.where(c < p, 1.0, torch.where(c < p + 0.1, -1.0, 0.0)).double()
    want_loss, want_g = official_ap_loss(s, y)
    x = s.clone().requires_grad_(True)
    loss = mod.Loss()(x, y)
    loss.backward()
    assert abs(loss.item() - want_loss.item()) < 1e-12
    ts.assert_close(x.grad, want_g, 1e-9, 1e-13, "AP-Loss gradient")
    # the error-driven update sums to zero over the batch
    assert abs(x.grad.sum().item()) < 1e-12
    x32 = s.float().requires_grad_(True)
    mod.Loss()(x32, y.float()).backward()
    ts.assert_close(x32.grad, want_g, 1e-4, 1e-6, "AP-Loss float32 gradient")


def test_pair_analysis_formulas_are_found():
    assert len(FORMULAS) >= 5


DEVICE = os.environ.get("LOSSC_TORCH_DEVICE", "cpu")


@pytest.mark.skipif(DEVICE == "cpu", reason="set LOSSC_TORCH_DEVICE=cuda to run on a GPU")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", RANKING)
def test_device_matches_cpu(lossc, name, dtype):
    mod = ranking_module(lossc, name)
    s, y, u = batch("grid", n=500, seed=17)
    want = run(mod, s, y, u, dtype)
    got = run(mod, s.to(DEVICE), y.to(DEVICE), u.to(DEVICE), dtype)
    assert got[0].device.type == torch.device(DEVICE).type
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    for a, b in zip(got, want):
        torch.testing.assert_close(a.cpu(), b, **tol)


def test_a_pair_that_rounds_onto_a_breakpoint_gets_the_reference_gradient(lossc, tmp_path):
    # PAP's x = fl(fl(d/2) + 0.5) is exactly 1 (the clamp's bound, which passes the gradient)
    # at d = fl(1.3000000000000003 - 0.3) = 1 + 2^-52: the module evaluates pairs within a few
    # ulps of a breakpoint on their own, as the reference does (RankingKernelTests has the same pair)
    mod = ranking_module(lossc, "pap_retinanet")
    s = torch.tensor([0.3, 1.3000000000000003], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    u = torch.tensor([0.5, 0.5], dtype=torch.float64)
    loss, d_s, d_u = reference(lossc, "pap_retinanet", s, y, u, tmp_path)
    assert abs(float(d_s[0])) > 0.1  # the pair's gradient is not zero in the reference
    value, gs, gu = run(mod, s, y, u, torch.float64)
    ts.assert_close(gs, d_s, 1e-12, 1e-12, "d_s")
