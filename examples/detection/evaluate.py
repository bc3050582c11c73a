"""COCO AP with pycocotools on a held-out generated set.

Post-processing is rank-only, so it treats every loss alike, calibrated or not (ranking losses'
logits are not probabilities): per image the 1,000 highest-scoring (anchor, class) entries, class-
wise NMS at IoU 0.5, the best 100 kept; no score threshold. Box areas are the boxes' own (the
generated data has no masks), so COCO's area ranges apply to w*h: objects of 8-64 px give APs and
APm, and APl is -1 (no ground truth above 96^2 px).
"""
import contextlib
import sys

import torch
import torchvision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from assign import decode
from data import CLASSES, EVAL, generate_batch

PRE_NMS, NMS_IOU, MAX_DETS = 1000, 0.5, 100
METRICS = ("AP", "AP50", "AP75", "APs", "APm", "APl")


def coco_ground_truth(boxes, labels):
    """A COCO dataset dict from per-image (n, 4) xyxy boxes and (n,) labels."""
    images, anns = [], []
    for i, (b, l) in enumerate(zip(boxes, labels)):
        images.append({"id": i, "width": 128, "height": 128})
        for box, c in zip(b.tolist(), l.tolist()):
            w, h = box[2] - box[0], box[3] - box[1]
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": int(c) + 1,
                         "bbox": [box[0], box[1], w, h], "area": w * h, "iscrowd": 0})
    cats = [{"id": c + 1, "name": n} for c, n in enumerate(CLASSES)]
    return {"images": images, "annotations": anns, "categories": cats}


def coco_detections(boxes, scores, labels):
    """COCO result records from per-image detections (xyxy boxes, scores, 0-based labels)."""
    out = []
    for i, (b, s, l) in enumerate(zip(boxes, scores, labels)):
        for box, score, c in zip(b.tolist(), s.tolist(), l.tolist()):
            out.append({"image_id": i, "category_id": int(c) + 1, "score": float(score),
                        "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]]})
    return out


def coco_ap(gt, dets):
    """COCOeval bbox metrics as a dict (pycocotools' printout goes to stderr)."""
    if not dets:
        return {m: 0.0 for m in METRICS}
    with contextlib.redirect_stdout(sys.stderr):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        res = coco.loadRes(dets)
        ev = COCOeval(coco, res, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return {m: float(v) for m, v in zip(METRICS, ev.stats[:6])}


def postprocess(cls_logits, box_deltas, anchors):
    """Per-image detections from (N, K) logits and (N, 4) deltas: boxes, scores, labels."""
    k = cls_logits.shape[1]
    scores = cls_logits.flatten()
    top = scores.topk(min(PRE_NMS, scores.numel())).indices
    anchor_idx, labels = top // k, top % k
    boxes = decode(anchors[anchor_idx], box_deltas[anchor_idx]).clamp(0, 128)
    s = scores[top]
    keep = torchvision.ops.batched_nms(boxes, s, labels, NMS_IOU)[:MAX_DETS]
    return boxes[keep], torch.sigmoid(s[keep]), labels[keep]


@torch.no_grad()
def evaluate(model, anchors, eval_seed, num_images, batch=32):
    """COCO metrics of `model` on images 0..num_images-1 of the eval split of `eval_seed`."""
    model.eval()
    gt_boxes, gt_labels, det_b, det_s, det_l = [], [], [], [], []
    for start in range(0, num_images, batch):
        imgs, boxes, labels = generate_batch(eval_seed, EVAL, start, min(batch, num_images - start))
        cls, box = model(imgs)
        for i in range(imgs.shape[0]):
            b, s, l = postprocess(cls[i], box[i], anchors)
            det_b.append(b), det_s.append(s), det_l.append(l)
        gt_boxes += boxes
        gt_labels += labels
    model.train()
    return coco_ap(coco_ground_truth(gt_boxes, gt_labels), coco_detections(det_b, det_s, det_l))

