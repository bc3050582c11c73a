"""Anchors, IoU, RetinaNet's anchor assignment and the box coder.

RetinaNet (Lin et al., ICCV 2017, sec. 4; Detectron / mmdet `MaxIoUAssigner`): an anchor is positive
when its best IoU with a ground-truth box is >= 0.5, negative below 0.4, ignored in between; each
ground truth's best anchor(s) are positive too (mmdet `min_pos_iou=0`, Detectron2
`allow_low_quality_matches`), so every object has at least one positive.
"""
import math

import torch

STRIDES = (4, 8)  # the two pyramid levels
# anchor sizes 8 * 1.5^k, k = 0..5: three per level, covering the 8-64 px objects
SIZES = ((8.0, 12.0, 18.0), (27.0, 40.5, 60.75))
RATIOS = (0.5, 1.0, 2.0)  # height / width
ANCHORS_PER_LOCATION = len(SIZES[0]) * len(RATIOS)
POS_IOU, NEG_IOU = 0.5, 0.4
DELTA_STDS = (0.1, 0.1, 0.2, 0.2)  # mmdet / AP-Loss target_stds
WH_CLIP = math.log(1000.0 / 16)  # mmdet delta2bbox's wh_ratio_clip = 16/1000


def make_anchors(image_size=128):
    """All anchors, xyxy, level-major then (row, column, anchor): (sum_l H_l W_l A, 4)."""
    out = []
    for stride, sizes in zip(STRIDES, SIZES):
        n = image_size // stride
        c = (torch.arange(n, dtype=torch.float32) + 0.5) * stride
        cy, cx = torch.meshgrid(c, c, indexing="ij")
        shapes = []
        for size in sizes:
            for r in RATIOS:
                w, h = size / math.sqrt(r), size * math.sqrt(r)
                shapes.append((w, h))
        wh = torch.tensor(shapes)  # (A, 2)
        ctr = torch.stack([cx, cy], -1).reshape(-1, 1, 2)
        half = wh.reshape(1, -1, 2) / 2
        out.append(torch.cat([ctr - half, ctr + half], -1).reshape(-1, 4))
    return torch.cat(out)


def box_area(b):
    return (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)


def box_iou(a, b):
    """Pairwise IoU of (n, 4) and (m, 4) xyxy boxes: (n, m)."""
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    return inter / (box_area(a)[:, None] + box_area(b)[None, :] - inter)


def assign(anchors, gt_boxes, gt_labels):
    """Per-anchor assignment for one image.

    Returns (labels, matched): labels (n,) int64 with the class index for positives, -1 for
    negatives (background) and -2 for ignored anchors; matched (n,) the index of the matched GT.
    """
    n = anchors.shape[0]
    if gt_boxes.shape[0] == 0:
        return torch.full((n,), -1, dtype=torch.int64), torch.zeros(n, dtype=torch.int64)
    iou = box_iou(anchors, gt_boxes)  # (n, g)
    best, matched = iou.max(1)
    labels = torch.full((n,), -2, dtype=torch.int64)
    labels[best < NEG_IOU] = -1
    pos = best >= POS_IOU
    # low-quality matches: each GT's best anchors (ties included) are positive for that GT
    gt_best = iou.max(0).values
    for g in range(gt_boxes.shape[0]):
        if gt_best[g] > 0:
            hit = iou[:, g] == gt_best[g]
            matched[hit] = g
            pos |= hit
    labels[pos] = gt_labels[matched[pos]]
    return labels, matched


def encode(anchors, boxes):
    """Deltas (dx, dy, dw, dh) / stds of `boxes` relative to `anchors` (both (n, 4))."""
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = anchors[:, 0] + aw / 2, anchors[:, 1] + ah / 2
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    bx, by = boxes[:, 0] + bw / 2, boxes[:, 1] + bh / 2
    d = torch.stack([(bx - ax) / aw, (by - ay) / ah, torch.log(bw / aw), torch.log(bh / ah)], -1)
    return d / d.new_tensor(DELTA_STDS)


def decode(anchors, deltas):
    """Inverse of `encode`, with mmdet's clip of dw, dh."""
    d = deltas * deltas.new_tensor(DELTA_STDS)
    aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
    ax, ay = anchors[:, 0] + aw / 2, anchors[:, 1] + ah / 2
    cx, cy = ax + d[:, 0] * aw, ay + d[:, 1] * ah
    w = aw * d[:, 2].clamp(-WH_CLIP, WH_CLIP).exp()
    h = ah * d[:, 3].clamp(-WH_CLIP, WH_CLIP).exp()
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


def decode_unit(deltas):
    """`decode` against a unit anchor centred at 0 (PAP's scale-free frame for the box quality)."""
    unit = deltas.new_tensor([[-0.5, -0.5, 0.5, 0.5]]).expand(deltas.shape[0], 4)
    return decode(unit, deltas)
