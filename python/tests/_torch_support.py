"""Shared helpers of the torch backend's tests: emitting modules, data per kind, and lossc's
reference (`lossc eval --precision f64`) read back from its CSV output."""
import csv
import io
import os
import pathlib
import subprocess
import sys

import torch

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))

import lossc_torch  # noqa: E402

REPO = PYTHON_DIR.parent
EXAMPLES = REPO / "examples"
PER_SAMPLE = {
    "binary": ["bce", "cse_b_cls", "focal", "quality_focal", "varifocal"],
    "multiclass": ["cross_entropy", "cse_a_cls"],
    "box": ["cse_a_reg", "cse_b_reg", "giou", "iou"],
}
KIND_OF = {name: kind for kind, names in PER_SAMPLE.items() for name in names}
EXTREME_LOGITS = [-1e4, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e4]


def module(lossc, name_or_path, **emit_params):
    """The emitted module of an example (by name) or a .loss path/text, through lossc_torch."""
    os.environ["LOSSC"] = lossc
    path = EXAMPLES / (name_or_path + ".loss") if name_or_path in KIND_OF else name_or_path
    return lossc_torch.load_module(path, emit_params=emit_params or None)


def binary_data(n, seed, extremes=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=g, dtype=torch.float64) * 4
    y = (torch.rand(n, generator=g, dtype=torch.float64) < 0.4).double()
    w = torch.rand(n, generator=g, dtype=torch.float64)
    if extremes:
        e = torch.tensor(EXTREME_LOGITS, dtype=torch.float64)
        x = torch.cat([x, e, e])
        y = torch.cat([y, torch.ones_like(e), torch.zeros_like(e)])
        w = torch.cat([w, torch.full_like(e, 0.7), torch.full_like(e, 0.3)])
    return x, y, w


def multiclass_data(n, classes, seed, extremes=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, classes, generator=g, dtype=torch.float64) * 3
    y = torch.randint(0, classes, (n,), generator=g)
    w = torch.rand(n, generator=g, dtype=torch.float64)
    if extremes:
        rows = []
        for v in EXTREME_LOGITS:
            row = torch.zeros(classes, dtype=torch.float64)
            row[0] = v
            rows.append(row)
            rows.append(-row)
        x = torch.cat([x, torch.stack(rows)])
        y = torch.cat([y, torch.tensor([0, 1] * len(EXTREME_LOGITS))])
        w = torch.cat([w, torch.full((2 * len(EXTREME_LOGITS),), 0.5, dtype=torch.float64)])
    return x, y, w


def boxes(n, seed, generator=None):
    g = generator or torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 50 + 1
    return torch.cat([xy, xy + wh], dim=1)


def box_data(n, seed, extremes=True):
    g = torch.Generator().manual_seed(seed)
    pred, target = boxes(n, seed, g), boxes(n, seed, g)
    if extremes:
        b = torch.tensor([[10.0, 10.0, 20.0, 30.0]], dtype=torch.float64)
        special_pred = torch.cat([
            b,                                                    # identical
            torch.tensor([[5.0, 5.0, 5.0, 5.0]], dtype=torch.float64),        # zero-area prediction
            torch.tensor([[5.0, 5.0, 5.0, 9.0]], dtype=torch.float64),        # zero-width prediction
            torch.tensor([[1e4, 1e4, 1e4 + 3, 1e4 + 2]], dtype=torch.float64),  # far apart
            torch.tensor([[12.0, 12.0, 18.0, 28.0]], dtype=torch.float64),    # inside the target
            torch.tensor([[0.0, 0.0, 40.0, 50.0]], dtype=torch.float64),      # around the target
        ])
        special_target = torch.cat([b, b, b, b, b, b])
        pred, target = torch.cat([pred, special_pred]), torch.cat([target, special_target])
    return pred, target


def data(kind, n=40, seed=1, extremes=True):
    """Inputs of a kind as float64 tensors: binary/multiclass (x, y, w), box (pred, target)."""
    if kind == "binary":
        return binary_data(n, seed, extremes)
    if kind == "multiclass":
        return multiclass_data(n, 5, seed, extremes)
    return box_data(n, seed, extremes)


def _write_csv(kind, inputs, path):
    if kind == "binary":
        x, y, w = inputs
        header = ["x", "y", "w"]
        rows = torch.stack([x, y, w], dim=1)
    elif kind == "multiclass":
        x, y, w = inputs
        header = ["x%d" % k for k in range(x.shape[1])] + ["y", "w"]
        rows = torch.cat([x, y.double().unsqueeze(1), w.unsqueeze(1)], dim=1)
    else:
        pred, target = inputs
        header = ["x1", "y1", "x2", "y2", "tx1", "ty1", "tx2", "ty2"]
        rows = torch.cat([pred, target], dim=1)
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row in rows.tolist():
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def reference(lossc, loss_path, kind, inputs, tmp_path, params=()):
    """lossc's reference in float64: (per-sample loss, gradient) as float64 tensors; the
    gradient has the prediction's shape."""
    data_path = tmp_path / "data.csv"
    _write_csv(kind, inputs, data_path)
    command = [lossc, "eval", str(loss_path), "--data", str(data_path), "--precision", "f64"]
    for k, v in params:
        command += ["--param", "%s=%r" % (k, float(v))]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line and not line.startswith("#")]
    table = [[float(v) for v in row] for row in csv.reader(io.StringIO("\n".join(lines[1:])))]
    t = torch.tensor(table, dtype=torch.float64)
    return t[:, 0], t[:, 1:].reshape(inputs[0].shape)


def value_and_grad(criterion, inputs, dtype=torch.float64):
    """The module's per-sample values and the gradient of their sum w.r.t. the prediction."""
    first = inputs[0].to(dtype).detach().requires_grad_(True)
    rest = [t.to(dtype) if t.is_floating_point() else t for t in inputs[1:]]
    value = criterion(first, *rest)
    value.sum().backward()
    return value.detach(), first.grad.detach()


def assert_close(actual, expected, rtol, atol, what):
    """Equal where both are finite (relative to max(|expected|, 1) scaled), and the same
    non-finite values elsewhere."""
    actual = actual.to(torch.float64)
    finite = torch.isfinite(expected)
    assert torch.equal(torch.isfinite(actual), finite), "%s: finiteness differs:\n%s\n%s" % (what, actual, expected)
    scale = expected[finite].abs()
    err = (actual[finite] - expected[finite]).abs()
    bad = err > atol + rtol * scale
    assert not bad.any(), "%s: max error %g at %s (got %s, expected %s)" % (
        what, err.max().item(), bad.nonzero()[:5].flatten().tolist(),
        actual[finite][bad][:5].tolist(), expected[finite][bad][:5].tolist())
    nonfinite = ~finite
    assert torch.equal(actual[nonfinite].isnan(), expected[nonfinite].isnan())
