"""Unit tests of the detection proxy's parts (examples/detection): data, assignment, box coder,
COCO conversion, the loss plug and the built-in AP-Loss, each against an independent value."""
import os
import sys

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
pytest.importorskip("pycocotools")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "detection"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # lossc_torch

import assign  # noqa: E402
import data  # noqa: E402
import evaluate  # noqa: E402
import losses  # noqa: E402
from ap_loss_builtin import APLoss  # noqa: E402


def _random_boxes(n, gen):
    xy = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 40 + 1
    return torch.cat([xy, xy + wh], 1)


def test_box_iou_matches_torchvision():
    gen = torch.Generator().manual_seed(1)
    a, b = _random_boxes(50, gen), _random_boxes(30, gen)
    assert torch.allclose(assign.box_iou(a, b), torchvision.ops.box_iou(a, b), rtol=0, atol=1e-12)


def test_assignment_follows_retinanet_rules():
    anchors = assign.make_anchors()
    assert anchors.shape == (11520, 4)  # ~10^4 anchors per image
    for i in range(5):
        _, boxes, labels = data.generate_image(3, data.TRAIN, i)
        boxes, labels = torch.from_numpy(boxes), torch.from_numpy(labels)
        lab, matched = assign.assign(anchors, boxes, labels)
        iou = torchvision.ops.box_iou(anchors, boxes)
        best = iou.max(1).values
        gt_best = iou.max(0).values
        forced = (iou == gt_best[None, :]).any(1)  # each GT's best anchors
        pos = lab >= 0
        assert torch.equal(pos, (best >= 0.5) | forced)
        assert torch.equal(lab == -1, (best < 0.4) & ~forced)
        assert torch.equal(lab == -2, (best >= 0.4) & (best < 0.5) & ~forced)
        assert torch.equal(lab[pos], labels[matched[pos]])
        # every object has a positive, and a positive's matched box is one it overlaps best or forced
        assert set(matched[pos].tolist()) == set(range(len(boxes)))
        assert 0 < int(pos.sum()) < 200


def test_encode_decode_round_trip_and_closed_form():
    gen = torch.Generator().manual_seed(2)
    a, b = _random_boxes(100, gen), _random_boxes(100, gen)
    assert torch.allclose(assign.decode(a, assign.encode(a, b)), b, atol=1e-9)
    # closed form: a box shifted by half the anchor width and twice as wide
    anchor = torch.tensor([[0.0, 0.0, 10.0, 20.0]], dtype=torch.float64)
    box = torch.tensor([[0.0, 0.0, 20.0, 20.0]], dtype=torch.float64)
    d = assign.encode(anchor, box)
    assert torch.allclose(d, torch.tensor([[0.5 / 0.1, 0.0, torch.log(torch.tensor(2.0)) / 0.2, 0.0]],
                                           dtype=torch.float64))


def test_generator_is_deterministic_and_boxes_lie_inside():
    img1, b1, l1 = data.generate_image(7, data.TRAIN, 3)
    img2, b2, l2 = data.generate_image(7, data.TRAIN, 3)
    assert (img1 == img2).all() and (b1 == b2).all() and (l1 == l2).all()
    img3, _, _ = data.generate_image(8, data.TRAIN, 3)
    assert not (img1 == img3).all()
    counts = []
    for i in range(60):
        img, b, l = data.generate_image(11, data.EVAL, i)
        assert img.shape == (3, 128, 128) and img.dtype.name == "float32"
        assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 128).all() and (b[:, 2:] > b[:, :2]).all()
        side = (b[:, 2:] - b[:, :2])
        assert (side.max(1) >= 8 * 0.7).all() and (side.max(1) <= 128).all()
        assert ((l >= 0) & (l < len(data.CLASSES))).all()
        counts.append(len(b))
    assert 1 <= min(counts) and max(counts) <= 6 and len(set(counts)) > 2


def test_perfect_prediction_scores_ap_one_with_pycocotools():
    boxes, labels = [], []
    for i in range(10):
        _, b, l = data.generate_image(5, data.EVAL, i)
        boxes.append(torch.from_numpy(b))
        labels.append(torch.from_numpy(l))
    gt = evaluate.coco_ground_truth(boxes, labels)
    scores = [torch.ones(len(b)) for b in boxes]
    m = evaluate.coco_ap(gt, evaluate.coco_detections(boxes, scores, labels))
    assert m["AP"] == pytest.approx(1.0) and m["AP50"] == pytest.approx(1.0)
    # wrong classes everywhere: AP 0
    wrong = [(l + 1) % len(data.CLASSES) for l in labels]
    assert evaluate.coco_ap(gt, evaluate.coco_detections(boxes, scores, wrong))["AP"] == pytest.approx(0.0)


def _official_ap_loss(s, t, delta=1.0):
    """cccorn/AP-loss lib/model/aploss.py AP_loss, transcribed loop by loop (the reference)."""
    s = s.double()
    g = torch.zeros_like(s)
    if (t == 1).sum() == 0:
        return g, 0.0
    P = (t == 1).nonzero().flatten()
    sP = s[P]
    Nv = ((t == 0) & (s >= sP.min() - delta)).nonzero().flatten()
    f = lambda d: (d / (2 * delta) + 0.5).clamp(0, 1)  # noqa: E731
    gN = torch.zeros(len(Nv), dtype=s.dtype)
    prec = torch.zeros(len(P), dtype=s.dtype)
    maxp = 0.0
    for ii in torch.argsort(sP):
        si = sP[ii]
        a = f(sP - si).sum() + 0.5
        r = f(s[Nv] - si)
        b = r.sum()
        cur = a / (a + b)
        w = r / (a + b)
        if maxp <= cur:
            maxp = cur
        else:
            w = w * (1 - maxp) / (1 - cur)
        gN += w
        prec[ii] = maxp
    g[Nv] = gN
    g[P] = -(1 - prec)
    return g / len(P), float(1 - prec.mean())


@pytest.mark.parametrize("trial", range(4))
def test_builtin_ap_loss_equals_the_official_loop(trial):
    gen = torch.Generator().manual_seed(trial)
    n = 2000
    if trial % 2:  # tie-heavy
        s = torch.randint(-6, 6, (n,), generator=gen).double() / 2
    else:
        s = torch.randn(n, generator=gen, dtype=torch.float64) * 2
    t = (torch.rand(n, generator=gen) < 0.03).double()
    t[torch.rand(n, generator=gen) < 0.1] = -1
    s.requires_grad_(True)
    loss = APLoss()(s, t)
    loss.backward()
    g, ref = _official_ap_loss(s.detach(), t)
    assert loss.item() == pytest.approx(ref, abs=1e-12)
    assert torch.allclose(s.grad, g, atol=1e-14)


def test_builtin_ap_loss_without_positives_is_zero():
    s = torch.randn(100, requires_grad=True)
    loss = APLoss()(s, torch.zeros(100))
    loss.backward()
    assert loss.item() == 0 and (s.grad == 0).all()


def _plug_inputs():
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 50, 4, generator=gen) * 3
    labels = torch.randint(-2, 4, (2, 50), generator=gen)
    iou = torch.rand(2, 50, generator=gen)
    return logits, labels, iou, torch.zeros(2, 50), int((labels >= 0).sum())


def _torchvision_focal(logits, labels, num_pos, alpha, gamma):
    keep = labels >= -1
    y = torch.nn.functional.one_hot(labels.clamp(min=0), 4).float() * (labels >= 0)[..., None]
    return torchvision.ops.sigmoid_focal_loss(logits[keep], y[keep], alpha=alpha, gamma=gamma,
                                              reduction="sum") / num_pos


def test_plug_builtin_focal_is_torchvision_over_valid_anchors_per_positive():
    logits, labels, iou, q, num_pos = _plug_inputs()
    got = losses.ClassificationLoss("focal")(logits, labels, iou, q, num_pos)
    assert got.item() == pytest.approx(_torchvision_focal(logits, labels, num_pos, 0.25, 2.0).item(), rel=1e-6)


def test_plug_loss_files_through_the_torch_backend(lossc, examples):
    os.environ["LOSSC"] = lossc
    pytest.importorskip("lossc_torch", reason="python/lossc_torch.py (torch backend) not in this tree")
    logits, labels, iou, q, num_pos = _plug_inputs()
    focal = losses.ClassificationLoss(str(examples / "focal.loss"))
    ref = _torchvision_focal(logits, labels, num_pos, 0.25, 2.0).item()
    assert focal(logits, labels, iou, q, num_pos).item() == pytest.approx(ref, rel=1e-5)
    # CSE-Autoloss's convention: alpha_t outside the expression; BCE with alpha_t is focal at gamma 0
    bce = losses.ClassificationLoss(str(examples / "bce.loss"), alpha_t=0.25)
    ref = _torchvision_focal(logits, labels, num_pos, 0.25, 0.0).item()
    assert bce(logits, labels, iou, q, num_pos).item() == pytest.approx(ref, rel=1e-5)
    giou = losses.BoxLoss(str(examples / "giou.loss"))
    gen = torch.Generator().manual_seed(4)
    p, t = _random_boxes(20, gen).float(), _random_boxes(20, gen).float()
    ref = 2.0 * torchvision.ops.generalized_box_iou_loss(p, t, reduction="sum").item() / 20
    assert giou(None, None, p, t, 20).item() == pytest.approx(ref, rel=1e-5)


def test_ranking_loss_file_equals_the_official_ap_loss(lossc, examples):
    """examples/ap_loss.loss through the plug (torch backend or lossc's C kernel) against the
    loop-by-loop transcription of the official AP_loss, on a tie-heavy batch."""
    os.environ["LOSSC"] = lossc
    module = losses.load_ranking_file(str(examples / "ap_loss.loss"), {})
    gen = torch.Generator().manual_seed(9)
    s = (torch.randint(-6, 6, (3000,), generator=gen).double() / 2).requires_grad_(True)
    t = (torch.rand(3000, generator=gen) < 0.03).double()
    t[torch.rand(3000, generator=gen) < 0.1] = -1
    loss = module(s, t, torch.zeros_like(s))
    loss.backward()
    g, ref = _official_ap_loss(s.detach(), t)
    assert loss.item() == pytest.approx(ref, abs=1e-12)
    assert torch.allclose(s.grad, g, atol=1e-12)


def test_pap_quality_gradient_reaches_positives_only(lossc, examples):
    """PAP's official head masks the box-quality gradient to positives; the plug's u = quality * y does."""
    os.environ["LOSSC"] = lossc
    cls = losses.ClassificationLoss(str(examples / "pap_retinanet.loss"))
    gen = torch.Generator().manual_seed(5)
    logits = torch.randn(2, 40, 4, generator=gen, dtype=torch.float64)
    labels = torch.randint(-2, 4, (2, 40), generator=gen)
    quality = torch.rand(2, 40, generator=gen, dtype=torch.float64).requires_grad_(True)
    cls(logits, labels, None, quality, int((labels >= 0).sum())).backward()
    assert (quality.grad[labels < 0] == 0).all() and (quality.grad[labels >= 0] != 0).any()


@pytest.mark.parametrize("name", ["pap_faster_rcnn_rpn", "pap_faster_rcnn_rcnn"])
def test_pap_faster_rcnn_examples_check(lossc, examples, name):
    import subprocess
    p = subprocess.run([lossc, "check", str(examples / f"{name}.loss")], stdout=subprocess.PIPE, text=True)
    assert p.returncode == 0 and "result: pass" in p.stdout
