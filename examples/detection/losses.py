"""The loss plug: classification and box losses from built-ins or from `.loss` files.

A `.loss` file is turned into a torch module by lossc's torch backend (`python/lossc_torch.py`,
`lossc emit --target torch`), with the conventions of that backend:
  binary   forward(x, y, w=None)  per (anchor, class) element, reduction='none' here;
  ranking  forward(s, y, u=None)  scores, labels in {1, 0, -1}, qualities; one scalar per batch;
  box      forward(pred, target)  (..., 4) xyxy, reduction='none' here.

How the detector feeds them (the papers' official wiring):
  binary (CSE-Autoloss, Liu et al. ICLR 2021, `build_binary_cls_loss`): x = logits, y = one-hot of
    the matched class at positives, w = IoU of the decoded predicted box with its matched ground
    truth (detached, clamped at 1e-7) at positives and 0 elsewhere; alpha_t = a y + (1 - a)(1 - y)
    multiplies the expression OUTSIDE it when --alpha-t is set; ignored anchors are dropped; the
    sum is divided by the number of positives (RetinaNet's normalisation).
  ranking (AP-Loss, Chen et al. CVPR 2019; PAP, Tao et al. NeurIPS 2021): every (image, anchor,
    class) entry of the batch is pooled into one ranking, y = 1 at (positive, its class), 0 at the
    other entries, -1 at every class of an ignored anchor; u = PAP's box quality (GIoU + 1) / 2 of
    the predicted and target deltas decoded against a unit anchor, multiplied by y, so its gradient
    flows into the box branch at positives only (as PAP's official head does).
  box: decoded predicted boxes against their ground truths at positives, summed and divided by the
    number of positives, times the box weight (2.0, mmdet's GIoULoss weight in its RetinaNet/ATSS
    configs); the classic baseline is smooth-L1 (beta 1/9, Detectron's RetinaNet) on the deltas
    with weight 1.
"""
import os
import re
import sys

import torch
import torch.nn.functional as F
import torchvision

from ap_loss_builtin import APLoss
from assign import decode_unit

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILTIN_CLS = ("focal", "bce", "ap_loss")
BUILTIN_BOX = ("smooth_l1", "giou", "none")
SMOOTH_L1_BETA = 1.0 / 9
DECODED_BOX_WEIGHT = 2.0


def loss_kind(path):
    """The kind declared in a `.loss` file's `loss NAME: KIND` line."""
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*loss\s+\w+\s*:\s*(\w+)", line)
            if m:
                return m.group(1)
    raise SystemExit(f"{path}:1:1: error: no `loss NAME: KIND` line")


def load_loss_file(path, params):
    """The torch module of a `.loss` file, through lossc's torch backend."""
    sys.path.insert(0, os.path.join(REPO, "python"))
    built = os.path.join(REPO, ".build", "debug", "lossc")
    if "LOSSC" not in os.environ and os.access(built, os.X_OK):
        os.environ["LOSSC"] = built  # what `swift build` leaves; lossc_torch reads $LOSSC
    try:
        import lossc_torch
    except ImportError:
        raise SystemExit("error: the torch backend (python/lossc_torch.py) is not in this tree; "
                         "use a built-in loss (" + ", ".join(BUILTIN_CLS + BUILTIN_BOX) + ")")
    return lossc_torch.load(path, **params)


def load_ranking_file(path, params):
    """A ranking `.loss` file: the torch backend's module, else lossc's C kernel through ctypes
    (`ranking_c.py`) while the torch backend says ranking losses are not yet supported."""
    try:
        return load_loss_file(path, params)
    except RuntimeError as e:
        if "not yet supported" not in str(e):
            raise
    from ranking_c import RankingLossC
    return RankingLossC(path, **params)


class ClassificationLoss:
    """Callable (logits, labels, iou, quality, num_pos) -> scalar; `kind` is 'binary' or 'ranking'."""

    def __init__(self, spec, alpha_t=None, params=None):
        self.name = os.path.basename(spec)
        self.alpha_t = alpha_t
        if spec in BUILTIN_CLS:
            self.kind, self.module = ("ranking", APLoss(**(params or {}))) if spec == "ap_loss" else ("binary", None)
            self.builtin = spec
        else:
            self.kind = loss_kind(spec)
            if self.kind not in ("binary", "ranking"):
                raise SystemExit(f"{spec}:1:1: error: a {self.kind} loss cannot be the classification "
                                 "loss of this one-stage sigmoid head (binary or ranking only)")
            self.builtin = None
            if self.kind == "ranking":
                self.module = load_ranking_file(spec, params or {})
            else:
                self.module = load_loss_file(spec, params or {})
            if self.kind == "binary":
                self.module.reduction = "none"

    @property
    def needs_quality(self):
        return self.kind == "ranking"

    def __call__(self, logits, labels, iou, quality, num_pos):
        k = logits.shape[-1]
        valid = labels >= -1  # -2 = ignored
        pos = labels >= 0
        onehot = F.one_hot(labels.clamp(min=0), k).to(logits.dtype) * pos[..., None]
        if self.kind == "ranking":
            y = onehot.clone()
            y[~valid] = -1
            u = quality[..., None] * onehot
            return self.module(logits, y, u)
        x, y = logits[valid], onehot[valid]
        if self.builtin == "focal":
            el = torchvision.ops.sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0, reduction="none")
        elif self.builtin == "bce":
            el = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        else:
            w = (iou[valid].detach().clamp(min=1e-7)[:, None] * y)
            el = self.module(x, y, w)
        if self.alpha_t is not None:
            el = el * (self.alpha_t * y + (1 - self.alpha_t) * (1 - y))
        return el.sum() / max(num_pos, 1)


class BoxLoss:
    """Callable (pred_deltas, target_deltas, pred_boxes, target_boxes, num_pos) -> scalar (positives only)."""

    def __init__(self, spec, weight=None, params=None):
        self.name = os.path.basename(spec)
        self.builtin = spec if spec in BUILTIN_BOX else None
        if self.builtin is None:
            kind = loss_kind(spec)
            if kind != "box":
                raise SystemExit(f"{spec}:1:1: error: --box-loss needs a box loss, this one is {kind}")
            self.module = load_loss_file(spec, params or {})
            self.module.reduction = "none"
        default = 1.0 if spec == "smooth_l1" else DECODED_BOX_WEIGHT
        self.weight = default if weight is None else weight

    def __call__(self, pred_deltas, target_deltas, pred_boxes, target_boxes, num_pos):
        if self.builtin == "none" or pred_boxes.shape[0] == 0:
            return pred_boxes.sum() * 0
        if self.builtin == "smooth_l1":
            el = F.smooth_l1_loss(pred_deltas, target_deltas, beta=SMOOTH_L1_BETA, reduction="none").sum(-1)
        elif self.builtin == "giou":
            el = torchvision.ops.generalized_box_iou_loss(pred_boxes, target_boxes, reduction="none")
        else:
            el = self.module(pred_boxes, target_boxes)
        return self.weight * el.sum() / max(num_pos, 1)


def pap_quality(pred_deltas, target_deltas):
    """PAP's box quality (GIoU + 1) / 2 in the unit-anchor frame (official paploss_retina_head)."""
    g = torchvision.ops.generalized_box_iou_loss(decode_unit(pred_deltas), decode_unit(target_deltas),
                                                 reduction="none")
    return (2.0 - g) / 2.0  # GIoU = 1 - loss
