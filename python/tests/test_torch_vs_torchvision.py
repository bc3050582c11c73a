"""The emitted modules against the implementations users already trust:
torchvision.ops.sigmoid_focal_loss, F.binary_cross_entropy_with_logits, F.cross_entropy and
torchvision.ops.generalized_box_iou_loss — values and gradients, every reduction, in float64,
on random data and at extreme logits; plus torch.autograd.gradcheck of lossc's backward."""
import pytest
import torch
import torch.nn.functional as F
import torchvision

import _torch_support as ts

REDUCTIONS = ["none", "mean", "sum"]


def both(criterion, reference, inputs):
    """(ours, theirs): each a (value, gradient w.r.t. the first input) pair, float64."""
    out = []
    for f in (criterion, reference):
        first = inputs[0].detach().clone().requires_grad_(True)
        value = f(first, *inputs[1:])
        (value.sum() if value.dim() else value).backward()
        out.append((value.detach(), first.grad))
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.5, 1.5), (0.75, 0.0), (0.1, 3.0)])
def test_focal_matches_torchvision(lossc, reduction, alpha, gamma):
    mod = ts.module(lossc, "focal")
    g = torch.Generator().manual_seed(1)
    x = torch.cat([torch.randn(8, 30, 4, generator=g, dtype=torch.float64) * 5,
                   torch.tensor(ts.EXTREME_LOGITS[2:-2], dtype=torch.float64).expand(8, 30, 5)], dim=-1)
    y = (torch.rand(x.shape, generator=g, dtype=torch.float64) < 0.2).double()
    ours, theirs = both(mod.Loss(alpha=alpha, gamma=gamma, reduction=reduction),
                        lambda a, b: torchvision.ops.sigmoid_focal_loss(a, b, alpha, gamma, reduction), (x, y))
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)


def test_focal_float32_at_extreme_logits(lossc):
    # float32 at |x| up to 1e4: finite, and as torchvision computes it
    mod = ts.module(lossc, "focal")
    x = torch.tensor(ts.EXTREME_LOGITS, dtype=torch.float32)
    for label in (0.0, 1.0):
        y = torch.full_like(x, label)
        ours, theirs = both(mod.Loss(reduction="none"), lambda a, b: torchvision.ops.sigmoid_focal_loss(a, b), (x, y))
        assert torch.isfinite(ours[0]).all() and torch.isfinite(ours[1]).all()
        torch.testing.assert_close(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours[1], theirs[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_binary_cross_entropy_with_logits(lossc, reduction):
    mod = ts.module(lossc, "bce")
    x, y, _ = ts.binary_data(200, seed=2)
    ours, theirs = both(mod.Loss(reduction=reduction),
                        lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), (x, y))
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)


def test_bce_soft_targets_and_broadcasting(lossc):
    # x (N, 1) against y (N, K): the gradient is summed back to x's shape, as autograd does
    mod = ts.module(lossc, "bce")
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16, 1, generator=g, dtype=torch.float64) * 3
    y = torch.rand(16, 7, generator=g, dtype=torch.float64)
    ours, theirs = both(mod.Loss(reduction="sum"),
                        lambda a, b: F.binary_cross_entropy_with_logits(a.expand_as(b), b, reduction="sum"), (x, y))
    assert ours[1].shape == (16, 1)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(40, 6), (5, 6, 3, 4)])
def test_cross_entropy_matches_torch(lossc, reduction, shape):
    mod = ts.module(lossc, "cross_entropy")
    g = torch.Generator().manual_seed(4)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 4
    x.view(-1)[:3] = torch.tensor([1e4, -1e4, 100.0], dtype=torch.float64)
    target_shape = shape[:1] + shape[2:]
    y = torch.randint(0, shape[1], target_shape, generator=g)
    # class indices
    ours, theirs = both(mod.Loss(reduction=reduction), lambda a, b: F.cross_entropy(a, b, reduction=reduction), (x, y))
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)
    # one-hot and soft targets of x's shape (class probabilities, as F.cross_entropy takes)
    onehot = F.one_hot(y, shape[1]).movedim(-1, 1).double()
    soft = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim=1)
    for target in (onehot, soft):
        ours, theirs = both(mod.Loss(reduction=reduction), lambda a, b: F.cross_entropy(a, b, reduction=reduction), (x, target))
        torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)


def test_cross_entropy_per_sample_weight(lossc):
    mod = ts.module(lossc, "cse_a_cls")     # -dot(y * (1 + sin(w)), log(softmax(x)))
    x, y, w = ts.multiclass_data(30, 4, seed=5, extremes=False)
    first = x.clone().requires_grad_(True)
    value = mod.Loss(reduction="none")(first, y, w)
    expected = F.cross_entropy(x, y, reduction="none") * (1 + torch.sin(w))
    torch.testing.assert_close(value, expected, rtol=1e-10, atol=1e-13)


def test_out_of_range_class_index_is_an_all_zero_row(lossc):
    mod = ts.module(lossc, "cross_entropy")
    x = torch.randn(3, 4, dtype=torch.float64)
    value = mod.Loss(reduction="none")(x, torch.tensor([1, -100, 4]))
    assert value[1] == 0 and value[2] == 0
    torch.testing.assert_close(value[0], F.cross_entropy(x[:1], torch.tensor([1]), reduction="sum"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_giou_matches_torchvision(lossc, reduction):
    mod = ts.module(lossc, "giou")
    pred, target = ts.box_data(300, seed=6, extremes=False)
    far = torch.tensor([[1e4, 1e4, 1e4 + 3, 1e4 + 2]], dtype=torch.float64)
    pred, target = torch.cat([pred, far]), torch.cat([target, target[:1]])
    ours, theirs = both(mod.Loss(reduction=reduction),
                        lambda a, b: torchvision.ops.generalized_box_iou_loss(a, b, reduction=reduction), (pred, target))
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(ours[1], theirs[1], rtol=1e-9, atol=1e-13)


def test_giou_identical_and_zero_area_boxes(lossc):
    # values as torchvision at the degenerate boxes (gradients at these kinks are lossc's choice
    # of one-sided derivative: compared with lossc eval in test_torch_reference)
    mod = ts.module(lossc, "giou")
    b = torch.tensor([[10.0, 10.0, 20.0, 30.0]], dtype=torch.float64)
    pred = torch.cat([b, torch.tensor([[5.0, 5.0, 5.0, 5.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)])
    target = torch.cat([b, b, torch.zeros(1, 4, dtype=torch.float64)])
    value = mod.Loss(reduction="none")(pred, target)
    expected = torchvision.ops.generalized_box_iou_loss(pred, target, reduction="none")
    torch.testing.assert_close(value, expected, rtol=1e-12, atol=1e-12)
    assert value[0] < 1e-6


@pytest.mark.parametrize("name", ["focal", "bce", "quality_focal", "varifocal", "cse_b_cls",
                                  "cross_entropy", "cse_a_cls", "giou", "iou", "cse_a_reg", "cse_b_reg"])
def test_gradcheck_float64(lossc, name):
    mod = ts.module(lossc, name)
    kind = ts.KIND_OF[name]
    inputs = ts.data(kind, n=6, seed=12, extremes=False)
    criterion = mod.Loss(reduction="none")
    first = inputs[0].clone().requires_grad_(True)
    # lossc's backward against finite differences of lossc's forward
    assert torch.autograd.gradcheck(lambda a: criterion(a, *inputs[1:]), (first,), eps=1e-6, atol=1e-6, rtol=1e-5)
