"""Generated detection data: 128x128 RGB images of 1-6 shapes, everything drawn from a seed.

Nothing is downloaded. Each image comes from its own generator keyed by (seed, split, index), so a
batch is the same whatever was generated before it, and the training stream never repeats (every
step draws fresh images). Four classes (filled rectangle, filled ellipse, triangle, outlined
rectangle), sizes 8-64 px, aspect 1:2 to 2:1, overlap allowed up to IoU 0.4 with earlier objects
(later shapes paint over earlier ones), unannotated clutter (thin lines and specks), a smooth
background and Gaussian noise: enough that the 11,520 anchors per image hold a few dozen positives.
"""
import numpy as np
import torch

IMAGE_SIZE = 128
CLASSES = ("rectangle", "ellipse", "triangle", "frame")
MIN_SIZE, MAX_SIZE = 8.0, 64.0
MAX_OVERLAP = 0.4  # an object overlapping an earlier one more than this is redrawn

TRAIN, EVAL = 0, 1  # split ids in the generator key


def _iou_one(box, boxes):
    """IoU of one box against an (n, 4) array (for the overlap limit only)."""
    if len(boxes) == 0:
        return np.zeros(0)
    b = np.asarray(boxes)
    w = np.clip(np.minimum(box[2], b[:, 2]) - np.maximum(box[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], b[:, 3]) - np.maximum(box[1], b[:, 1]), 0, None)
    inter = w * h
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area + areas - inter)


def _shape_mask(cls, box, rng, px, py):
    """Boolean mask of pixel centres (px, py) inside shape `cls` drawn in `box`."""
    x1, y1, x2, y2 = box
    if cls == 0:  # filled rectangle
        return (px >= x1) & (px <= x2) & (py >= y1) & (py <= y2)
    if cls == 1:  # filled ellipse touching its box
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        return ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 <= 1.0
    if cls == 2:  # isosceles triangle, apex up or down, touching all four sides of its box
        t = (py - y1) / (y2 - y1)  # 0 at the top edge, 1 at the bottom
        if rng.random() < 0.5:
            t = 1.0 - t
        half = t * (x2 - x1) / 2
        cx = (x1 + x2) / 2
        return (t >= 0) & (t <= 1) & (np.abs(px - cx) <= half)
    # outlined rectangle (frame), 2-3 px thick
    thick = rng.uniform(2.0, 3.0)
    outer = (px >= x1) & (px <= x2) & (py >= y1) & (py <= y2)
    inner = (px >= x1 + thick) & (px <= x2 - thick) & (py >= y1 + thick) & (py <= y2 - thick)
    return outer & ~inner


def _background(rng, px, py):
    """A smooth colour gradient (3, H, W)."""
    base = rng.uniform(0.0, 1.0, size=(3, 1, 1))
    gx = rng.uniform(-0.3, 0.3, size=(3, 1, 1))
    gy = rng.uniform(-0.3, 0.3, size=(3, 1, 1))
    return base + gx * (px / IMAGE_SIZE - 0.5) + gy * (py / IMAGE_SIZE - 0.5)


def _clutter(img, rng, px, py):
    """Unannotated distractors: a few thin lines and small specks (smaller than any object)."""
    for _ in range(rng.integers(0, 5)):
        x0, y0 = rng.uniform(0, IMAGE_SIZE, 2)
        angle = rng.uniform(0, np.pi)
        length = rng.uniform(10, 60)
        dx, dy = np.cos(angle), np.sin(angle)
        along = (px - x0) * dx + (py - y0) * dy
        across = np.abs(-(px - x0) * dy + (py - y0) * dx)
        m = (along >= 0) & (along <= length) & (across <= 0.7)
        img[:, m] = rng.uniform(0, 1, size=(3, 1))
    for _ in range(rng.integers(0, 6)):
        cx, cy = rng.uniform(0, IMAGE_SIZE, 2)
        r = rng.uniform(1.0, 2.5)
        m = (px - cx) ** 2 + (py - cy) ** 2 <= r * r
        img[:, m] = rng.uniform(0, 1, size=(3, 1))


def generate_image(seed, split, index):
    """One image: float32 (3, 128, 128) in about [0, 1], boxes (n, 4) xyxy float32, labels (n,)."""
    rng = np.random.default_rng([seed, split, index])
    py, px = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64) + 0.5
    img = _background(rng, px, py)
    _clutter(img, rng, px, py)
    boxes, labels = [], []
    for _ in range(rng.integers(1, 7)):
        for _attempt in range(20):
            size = np.exp(rng.uniform(np.log(MIN_SIZE), np.log(MAX_SIZE)))
            aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0)))
            w = min(size * np.sqrt(aspect), IMAGE_SIZE - 1.0)
            h = min(size / np.sqrt(aspect), IMAGE_SIZE - 1.0)
            x1 = rng.uniform(0, IMAGE_SIZE - w)
            y1 = rng.uniform(0, IMAGE_SIZE - h)
            box = np.array([x1, y1, x1 + w, y1 + h])
            if (_iou_one(box, boxes) <= MAX_OVERLAP).all():
                break
        else:
            continue
        cls = int(rng.integers(0, len(CLASSES)))
        mask = _shape_mask(cls, box, rng, px, py)
        colour = rng.uniform(0, 1, size=(3, 1))
        # keep the shape visible: push its colour away from the local background
        local = img[:, mask].mean(axis=1, keepdims=True) if mask.any() else colour
        if np.abs(colour - local).max() < 0.3:
            colour = np.where(local < 0.5, np.minimum(local + 0.5, 1.0), local - 0.5)
        img[:, mask] = colour
        boxes.append(box)
        labels.append(cls)
    img = img + rng.normal(0.0, 0.06, size=img.shape)
    return (np.clip(img, 0, 1).astype(np.float32), np.asarray(boxes, np.float32).reshape(-1, 4),
            np.asarray(labels, np.int64))


def generate_batch(seed, split, start, count):
    """Images start..start+count-1 of a split: a (count, 3, H, W) tensor and lists of boxes, labels."""
    imgs, boxes, labels = [], [], []
    for i in range(start, start + count):
        im, b, l = generate_image(seed, split, i)
        imgs.append(im)
        boxes.append(torch.from_numpy(b))
        labels.append(torch.from_numpy(l))
    return torch.from_numpy(np.stack(imgs)), boxes, labels
