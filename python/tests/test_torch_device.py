"""The emitted modules on an accelerator (LOSSC_TORCH_DEVICE=cuda, set by bench/gpu_check.sh):
values and gradients as on the CPU for every per-sample example, float32 and float64, no
host synchronisation needed to run them, and torch.compile(fullgraph=True) there. Skipped
when LOSSC_TORCH_DEVICE is unset (or cpu)."""
import os

import pytest
import torch
import torchvision

import _torch_support as ts

DEVICE = os.environ.get("LOSSC_TORCH_DEVICE", "cpu")
pytestmark = pytest.mark.skipif(DEVICE == "cpu", reason="set LOSSC_TORCH_DEVICE=cuda to run on a GPU")

CASES = [name for names in ts.PER_SAMPLE.values() for name in names]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", CASES)
def test_device_matches_cpu(lossc, name, dtype):
    mod = ts.module(lossc, name)
    inputs = ts.data(ts.KIND_OF[name], n=200, seed=40)
    criterion = mod.Loss(reduction="none")
    cpu_value, cpu_grad = ts.value_and_grad(criterion, inputs, dtype=dtype)
    moved = [t.to(DEVICE) for t in inputs]
    value, grad = ts.value_and_grad(criterion, moved, dtype=dtype)
    assert value.device.type == torch.device(DEVICE).type and grad.device == value.device
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(value.cpu(), cpu_value, **tol)
    torch.testing.assert_close(grad.cpu(), cpu_grad, **tol)


def test_focal_and_giou_match_torchvision_on_device(lossc):
    focal, giou = ts.module(lossc, "focal"), ts.module(lossc, "giou")
    x, y, _ = [t.to(DEVICE) for t in ts.binary_data(1000, seed=41)]
    a = x.clone().requires_grad_(True)
    b = x.clone().requires_grad_(True)
    focal.Loss()(a, y).backward()
    torchvision.ops.sigmoid_focal_loss(b, y, reduction="mean").backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-12)
    pred, target = [t.to(DEVICE) for t in ts.box_data(500, seed=42, extremes=False)]
    p1, p2 = pred.clone().requires_grad_(True), pred.clone().requires_grad_(True)
    giou.Loss()(p1, target).backward()
    torchvision.ops.generalized_box_iou_loss(p2, target, reduction="mean").backward()
    torch.testing.assert_close(p1.grad, p2.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["focal", "cross_entropy", "giou"])
def test_compile_on_device(lossc, name):
    mod = ts.module(lossc, name)
    inputs = [t.to(DEVICE).float() if t.is_floating_point() else t.to(DEVICE) for t in ts.data(ts.KIND_OF[name], n=256, seed=43)]
    criterion = mod.Loss()
    compiled = torch.compile(criterion, fullgraph=True)
    v1, g1 = ts.value_and_grad(criterion, inputs, dtype=torch.float32)
    v2, g2 = ts.value_and_grad(compiled, inputs, dtype=torch.float32)
    torch.testing.assert_close(v2, v1, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g2, g1, rtol=1e-5, atol=1e-7)
