"""Benchmark of lossc's emitted PyTorch ranking modules (AP-Loss, PAP) against the official
O(P*N) formulation written in torch, in one process.

The official formulations loop over the positives, one vectorized pass over the batch's
entries per positive (AP-Loss: cccorn/AP-loss, lib/model/aploss.py, AP_loss(); PAP:
fundamentalvision/Parameterized-AP-Loss, mmdet/models/losses/paploss.py). At 1M entries with
1% positives that is 10,000 passes over 10^6 entries, so the baseline times --sample positives
(value + gradient) and extrapolates linearly to all of them (the passes are independent of
each other's cost); the emitted module runs the whole batch. Value + gradient, float32, best of
--reps; printed as a table with the ratio baseline / lossc (above 1 means lossc is faster).

    LOSSC=.build/release/lossc .venv/bin/python bench/torch_ranking_bench.py [--n 1000000] [--device cpu] [--threads 1]

With LOSSC_ARGS_ONLY=1 it only parses its arguments (as lossc's benchmarks do in the docs test).
"""
import argparse
import os
import pathlib
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import lossc_torch  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

# PAP's published RetinaNet control points (configs/paploss/paploss_retinanet_r50_fpn.py), as
# examples/pap_retinanet.loss has them
CURVES = {
    "H2": [(0, 0), (0.4182, 0.0277), (0.4948, 0.2187), (0.6882, 0.2624), (0.802, 0.6688), (1, 1)],
    "I2": [(0, 0), (0.1279, 0.3696), (0.3056, 0.4708), (0.5198, 0.529), (0.6983, 0.6709), (1, 1)],
    "I3": [(0, 0), (0.0931, 0.0289), (0.3607, 0.5585), (0.4823, 0.7131), (0.6291, 0.8162), (1, 1)],
    "I1": [(0, 0), (0.4914, 0.1499), (0.5492, 0.1664), (0.6259, 0.3051), (0.7945, 0.6195), (1, 1)],
    "H1": [(0, 0), (0.413, 0.0798), (0.4356, 0.3571), (0.5361, 0.7063), (0.8097, 0.9083), (1, 1)],
}


def curve(name, x):
    """The piecewise-linear function through a curve's control points (x in [0, 1])."""
    pts = torch.tensor(CURVES[name], dtype=x.dtype, device=x.device)
    k = torch.searchsorted(pts[1:-1, 0].contiguous(), x.detach().contiguous(), right=True)
    x0, y0, x1, y1 = pts[k, 0], pts[k, 1], pts[k + 1, 0], pts[k + 1, 1]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def official_ap_loss(s, y, positives, delta=1.0):
    """AP_loss as the official code computes it, for the listed positives (by ascending score):
    one pass over the negatives and positives per positive; returns (loss part, d loss / d s)."""
    pos = torch.nonzero(y == 1).flatten()
    neg = torch.nonzero(y == 0).flatten()
    sp, sn = s[pos], s[neg]
    g_neg = torch.zeros_like(sn)
    g = torch.zeros_like(s)
    maxp = torch.zeros((), dtype=s.dtype, device=s.device)
    total = torch.zeros((), dtype=s.dtype, device=s.device)
    for i in positives.tolist():
        si = s[i]
        a = torch.clamp((sp - si) / (2 * delta) + 0.5, 0, 1).sum() + 0.5
        r = torch.clamp((sn - si) / (2 * delta) + 0.5, 0, 1)
        b = r.sum()
        cur = a / (a + b)
        w = r / (a + b)
        better = maxp <= cur
        maxp = torch.where(better, cur, maxp)
        g_neg += torch.where(better, w, w * (1 - maxp) / (1 - cur))
        g[i] = -(1 - maxp)
        total = total + (1 - maxp)
    g[neg] = g_neg
    return total / len(pos), g / len(pos)


def official_pap(s, y, u, positives, num_topk=100000):
    """PAP (RetinaNet's five functions) as the official code computes it, for the listed
    positives: the num_topk highest-scoring valid entries, then one pass over them per
    positive, gradient by autograd (u's gradient scaling does not change the cost)."""
    s = s.detach().requires_grad_(True)
    valid = torch.nonzero(y >= 0).flatten()
    valid = valid[torch.topk(s.detach()[valid], min(num_topk, valid.numel())).indices]
    sv = s[valid]
    not_i2 = 1 - curve("I2", u[valid])  # the same for every positive: computed once
    npos = (y == 1).sum()
    total = torch.zeros((), dtype=s.dtype, device=s.device)
    for i in positives.tolist():
        x = torch.clamp((sv - s[i]) / 2 + 0.5, 0, 1)
        above = (curve("H2", x) * not_i2).sum()
        denom = curve("H1", x).sum().detach()
        total = total + 1 - curve("I1", u[i]) + curve("I3", u[i]) * above / denom
    loss = total / (npos + 1e-8)
    loss.backward()
    return loss.detach(), s.grad


def batch(n, device, generator):
    s = torch.randn(n, generator=generator).mul_(2)
    c = torch.rand(n, generator=generator)
    y = torch.where(c < 0.01, 1.0, torch.where(c < 0.02, -1.0, 0.0))
    u = torch.where(y == 1, torch.rand(n, generator=generator), torch.zeros(n))
    return s.to(device), y.to(device), u.to(device)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def best(f, reps, device):
    f()  # warm-up
    times = []
    for _ in range(reps):
        sync(device)
        start = time.perf_counter()
        f()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--sample", type=int, default=100, help="positives the baseline runs (extrapolated)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":
        return     # the docs test checks the command line only
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = args.device
    s, y, u = batch(args.n, device, torch.Generator().manual_seed(0))
    pos = torch.nonzero(y == 1).flatten()
    npos = pos.numel()
    # the baseline's sample: the positives by ascending score, every k-th (AP-Loss scans in that order)
    ordered = pos[torch.argsort(s[pos], stable=True)]
    sample = ordered[:: max(1, npos // args.sample)][: args.sample]
    ap = lossc_torch.load(EXAMPLES / "ap_loss.loss")
    pap = lossc_torch.load(EXAMPLES / "pap_retinanet.loss")

    def lossc_ap():
        x = s.detach().requires_grad_(True)
        ap(x, y).backward()

    def lossc_pap():
        x = s.detach().requires_grad_(True)
        q = u.detach().requires_grad_(True)
        pap(x, y, q).backward()

    print("torch %s, device %s, %d threads, n = %d entries, %d positives, float32, value + gradient, best of %d"
          % (torch.__version__, device, torch.get_num_threads(), args.n, npos, args.reps))
    print("baseline: %d of the %d positives timed, extrapolated linearly" % (sample.numel(), npos))
    rows = []
    for name, ours, theirs in [
        ("AP-Loss", lossc_ap, lambda: official_ap_loss(s, y, sample)),
        ("PAP (RetinaNet)", lossc_pap, lambda: official_pap(s, y, u, sample)),
    ]:
        a = best(ours, args.reps, device)
        b = best(theirs, args.reps, device) * npos / sample.numel()
        rows.append((name, a, b))
    print()
    print("| loss | lossc module (ms) | official O(P*N) in torch (ms, extrapolated) | ratio official/lossc |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print("| %s | %.0f | %.0f | %.0fx |" % (name, a * 1e3, b * 1e3, b / a))


if __name__ == "__main__":
    if "LOSSC" not in os.environ and not any((pathlib.Path(p) / "lossc").exists() for p in os.environ.get("PATH", "").split(":")):
        sys.exit("set LOSSC=/path/to/lossc (e.g. .build/release/lossc)")
    main()
