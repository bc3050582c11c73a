"""The torch conventions of the emitted modules: dtypes (float16/bfloat16 computed in float32,
returned in their own dtype), shapes, reductions, errors with messages, hostile names in the
.loss file, and the lossc_torch loader (cache, params)."""
import pytest
import torch
import torch.nn.functional as F

import _torch_support as ts
import lossc_torch


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["focal", "cross_entropy", "giou"])
def test_half_precision_computes_in_float32(lossc, name, dtype):
    mod = ts.module(lossc, name)
    inputs = ts.data(ts.KIND_OF[name], n=30, seed=20, extremes=False)
    half = [t.to(dtype) if t.is_floating_point() else t for t in inputs]
    # the float32 result on the same (rounded) inputs
    as_float = [t.to(torch.float32) if t.is_floating_point() else t for t in half]
    value, grad = ts.value_and_grad(mod.Loss(reduction="none"), half, dtype=dtype)
    value32, grad32 = ts.value_and_grad(mod.Loss(reduction="none"), as_float, dtype=torch.float32)
    assert value.dtype == dtype and grad.dtype == dtype
    torch.testing.assert_close(value, value32.to(dtype), rtol=0, atol=0)
    torch.testing.assert_close(grad, grad32.to(dtype), rtol=0, atol=0)
    mean = mod.Loss()(half[0], *half[1:])
    assert mean.dtype == dtype
    torch.testing.assert_close(mean, value32.mean().to(dtype), rtol=0, atol=0)


def test_float64_and_float32_stay_in_their_dtype(lossc):
    mod = ts.module(lossc, "focal")
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(10, dtype=dtype, requires_grad=True)
        loss = mod.Loss()(x, torch.ones(10, dtype=dtype))
        loss.backward()
        assert loss.dtype == dtype and x.grad.dtype == dtype


def test_integer_and_bool_labels(lossc):
    mod = ts.module(lossc, "bce")
    x = torch.randn(12, dtype=torch.float64)
    y = torch.arange(12) % 2
    expected = F.binary_cross_entropy_with_logits(x, y.double())
    torch.testing.assert_close(mod.Loss()(x, y), expected)
    torch.testing.assert_close(mod.Loss()(x, y.bool()), expected)


def test_anchor_by_class_shapes_and_weights(lossc):
    mod = ts.module(lossc, "varifocal")
    x = torch.randn(2, 50, 8, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(2, 50, 8) < 0.1).double()
    w = torch.rand(2, 50, 1, dtype=torch.float64)        # one IoU per anchor, broadcast over classes
    value = mod.Loss(reduction="none")(x, y, w)
    assert value.shape == (2, 50, 8)
    value.sum().backward()
    assert x.grad.shape == x.shape
    same = mod.Loss(reduction="none")(x.detach(), y, w.expand(2, 50, 8))
    torch.testing.assert_close(value.detach(), same)


def test_reductions(lossc):
    mod = ts.module(lossc, "giou")
    pred, target = ts.box_data(20, seed=21, extremes=False)
    none = mod.Loss(reduction="none")(pred, target)
    assert none.shape == (pred.shape[0],)
    torch.testing.assert_close(mod.Loss(reduction="sum")(pred, target), none.sum())
    torch.testing.assert_close(mod.Loss()(pred, target), none.mean())
    batched = mod.Loss(reduction="none")(pred.view(4, 5, 4), target.view(4, 5, 4))
    torch.testing.assert_close(batched, none.view(4, 5))


def test_errors_have_messages(lossc):
    focal, giou, ce = ts.module(lossc, "focal"), ts.module(lossc, "giou"), ts.module(lossc, "cross_entropy")
    with pytest.raises(ValueError, match="reduction must be"):
        focal.Loss(reduction="avg")
    with pytest.raises(ValueError, match="target requires grad"):
        pred, target = ts.box_data(3, seed=1, extremes=False)
        giou.Loss()(pred, target.requires_grad_(True))
    with pytest.raises(ValueError, match="boxes must be"):
        giou.Loss()(torch.zeros(3, 5), torch.zeros(3, 5))
    with pytest.raises(ValueError, match="y requires grad"):
        focal.Loss()(torch.zeros(3), torch.zeros(3, requires_grad=True))
    with pytest.raises(ValueError, match=r"x must be \(N, C\)"):
        ce.Loss()(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="floating-point"):
        focal.Loss()(torch.zeros(3, dtype=torch.long), torch.zeros(3))


def test_no_grad_and_inference_paths_agree_with_the_autograd_path(lossc):
    mod = ts.module(lossc, "quality_focal")
    x, y, w = ts.binary_data(30, seed=22)
    with torch.no_grad():
        plain = mod.Loss(reduction="none")(x, y, w)
    tracked = mod.Loss(reduction="none")(x.clone().requires_grad_(True), y, w)
    assert torch.equal(plain, tracked.detach())


HOSTILE = '''# a comment with a newline-like \u2028 and a form feed \x0c and """ quotes and \\ backslash
loss print: binary
param lambda = 0.5  # """; import os
param self = 2
param reduction = 1
param float = 3
param t1 = 0.25
param lambda_ = 0.75
return lambda * softplus(self * x) - reduction * y + float * 0 + t1 * w + lambda_
'''


def test_hostile_names_are_sanitized(lossc, tmp_path):
    path = tmp_path / "hostile.loss"
    path.write_text(HOSTILE, encoding="utf-8")
    mod = ts.module(lossc, str(path))
    text = lossc_torch.emit(str(path)).read_text()
    # user text only in comments (one line each, escaped) and string literals
    assert all(line.startswith("#") for line in text.splitlines() if "import os" in line)
    assert "<U+000C>" in text and "<U+2028>" in text and "\x0c" not in text
    assert mod.NAME == "print" and list(mod.PARAMS) == ["lambda", "self", "reduction", "float", "t1", "lambda_"]
    # keyword arguments are the sanitized names; loaders use positions (lossc_torch.load)
    criterion = lossc_torch.load(str(path), reduction="none", **{"lambda": 1.0, "t1": 0.5})
    assert criterion.params == {"lambda": 1.0, "self": 2.0, "reduction": 1.0, "float": 3.0, "t1": 0.5, "lambda_": 0.75}
    x = torch.tensor([0.3, -2.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    w = torch.tensor([0.5, 1.0], dtype=torch.float64)
    expected = 1.0 * F.softplus(2.0 * x) - 1.0 * y + 0.5 * w + 0.75
    torch.testing.assert_close(criterion(x, y, w), expected)


def test_hostile_loss_name_with_name_flag(lossc, tmp_path):
    path = tmp_path / "n.loss"
    path.write_text("loss n: binary\nreturn softplus(-x)\n")
    mod = lossc_torch.load_module(str(path), name='a"b\n; import os #')
    assert hasattr(mod, "Loss") and mod.Loss.__name__.endswith("Loss")
    torch.testing.assert_close(mod.Loss()(torch.zeros(2), torch.zeros(2)), torch.tensor(0.6931471805599453, dtype=torch.float32))


def test_loader_caches_by_content(lossc, tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSC", lossc)
    monkeypatch.setenv("LOSSC_TORCH_CACHE", str(tmp_path / "cache"))
    text = "loss tiny: binary\nparam a = 2\nreturn a * softplus(-x)\n"
    first = lossc_torch.emit(text)
    stamp = first.stat().st_mtime_ns
    assert lossc_torch.emit(text) == first and first.stat().st_mtime_ns == stamp
    assert lossc_torch.emit(text + "\n") != first
    criterion = lossc_torch.load(text, a=3.0)
    torch.testing.assert_close(criterion(torch.zeros(1), torch.zeros(1)), torch.tensor(3 * 0.6931471805599453))
    with pytest.raises(TypeError, match="has no param b"):
        lossc_torch.load(text, b=1.0)
    with pytest.raises(RuntimeError, match="error"):
        lossc_torch.load("loss bad: binary\nreturn nope(x)\n")
    with pytest.raises(FileNotFoundError):
        lossc_torch.load(str(tmp_path / "missing.loss"))
