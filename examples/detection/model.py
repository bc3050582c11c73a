"""A small RetinaNet: CNN backbone, a two-level FPN-like neck (strides 4 and 8) and shared heads.

The heads follow RetinaNet (Lin et al., ICCV 2017, sec. 4): a classification subnet and a box
subnet of 3x3 convs shared across levels, A anchors x K sigmoid classes, the classification bias
initialised to the prior pi = 0.01 (b = -log((1 - pi) / pi)) and the other final weights to
N(0, 0.01) (see below). Sizes are cut down so a run fits minutes on two CPU cores.
"""
import math

import torch
from torch import nn

from assign import ANCHORS_PER_LOCATION

PRIOR = 0.01


def _conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class TinyRetinaNet(nn.Module):
    """Backbone C2 (stride 4), C3 (8), C4 (16); neck P2 = C2 + up(P3), P3 = C3 + up(C4)."""

    def __init__(self, num_classes, width=32, head_convs=2):
        super().__init__()
        self.num_classes = num_classes
        self.stem = nn.Sequential(_conv_bn(3, 16, 2), _conv_bn(16, width, 2), _conv_bn(width, width, 1))
        self.c3 = nn.Sequential(_conv_bn(width, 2 * width, 2), _conv_bn(2 * width, 2 * width, 1))
        self.c4 = nn.Sequential(_conv_bn(2 * width, 2 * width, 2), _conv_bn(2 * width, 2 * width, 1))
        self.lat2 = nn.Conv2d(width, width, 1)
        self.lat3 = nn.Conv2d(2 * width, width, 1)
        self.lat4 = nn.Conv2d(2 * width, width, 1)
        self.out2 = nn.Conv2d(width, width, 3, 1, 1)
        self.out3 = nn.Conv2d(width, width, 3, 1, 1)

        def tower():
            layers = []
            for _ in range(head_convs):
                layers += [nn.Conv2d(width, width, 3, 1, 1), nn.ReLU(inplace=True)]
            return nn.Sequential(*layers)

        self.cls_tower, self.box_tower = tower(), tower()
        self.cls_out = nn.Conv2d(width, ANCHORS_PER_LOCATION * num_classes, 3, 1, 1)
        self.box_out = nn.Conv2d(width, ANCHORS_PER_LOCATION * 4, 3, 1, 1)
        # RetinaNet draws every head conv from N(0, 0.01); with 32 channels instead of 256 that
        # shrinks the signal ~6x per layer, so the towers keep torch's default (Kaiming) init and
        # only the final layers start at N(0, 0.01)
        for m in (self.cls_out, self.box_out):
            nn.init.normal_(m.weight, std=0.01)
            nn.init.zeros_(m.bias)
        nn.init.constant_(self.cls_out.bias, -math.log((1 - PRIOR) / PRIOR))

    def forward(self, images):
        """Returns cls logits (B, N, K) and box deltas (B, N, 4), N anchors in make_anchors' order."""
        c2 = self.stem(images)
        c3 = self.c3(c2)
        c4 = self.c4(c3)
        up = nn.functional.interpolate
        p3 = self.lat3(c3) + up(self.lat4(c4), scale_factor=2, mode="nearest")
        p2 = self.lat2(c2) + up(p3, scale_factor=2, mode="nearest")
        cls, box = [], []
        b = images.shape[0]
        for p in (self.out2(p2), self.out3(p3)):
            cls.append(self.cls_out(self.cls_tower(p)).permute(0, 2, 3, 1).reshape(b, -1, self.num_classes))
            box.append(self.box_out(self.box_tower(p)).permute(0, 2, 3, 1).reshape(b, -1, 4))
        return torch.cat(cls, 1), torch.cat(box, 1)
