"""Benchmark of lossc's emitted PyTorch modules against torchvision's own losses, in one process.

For each loss: value + gradient (mean reduction, then backward) of the emitted module and of
torchvision's function on the same inputs, eager against eager and torch.compile against
torch.compile, runs interleaved, the best of --reps each; printed as a table with the ratio
(lossc / torchvision: below 1 means lossc is faster).

    LOSSC=.build/release/lossc .venv/bin/python bench/torch_bench.py [--n 4000000] [--device cpu]

--n counts elements: logits for the focal loss, box coordinates for GIoU (n/4 boxes).
--check compares values and gradients with torchvision first (the GPU script uses it).
With LOSSC_ARGS_ONLY=1 it only parses its arguments (as lossc's benchmarks do in the docs test).
Ranking losses (AP-Loss, PAP against the official O(P*N) formulations): bench/torch_ranking_bench.py.
"""
import argparse
import os
import pathlib
import sys
import time

import torch
import torchvision

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import lossc_torch  # noqa: E402

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def focal_inputs(n, device, generator):
    x = torch.randn(n, generator=generator).mul_(3).to(device)
    y = (torch.rand(n, generator=generator) < 0.05).float().to(device)
    return x, y


def box_inputs(n, device, generator):
    def boxes():
        xy = torch.rand(n // 4, 2, generator=generator) * 100
        return torch.cat([xy, xy + torch.rand(n // 4, 2, generator=generator) * 50 + 1], dim=1).to(device)
    return boxes(), boxes()


def step(f, inputs):
    """One value + gradient evaluation."""
    first = inputs[0].detach().requires_grad_(True)
    loss = f(first, *inputs[1:])
    loss.backward()
    return loss.detach(), first.grad


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def best_times(functions, inputs, reps, device):
    """Seconds per call of each function (the best of reps), runs interleaved."""
    for f in functions:
        step(f, inputs)        # warm-up (and compilation)
    times = [[] for _ in functions]
    for _ in range(reps):
        for k, f in enumerate(functions):
            sync(device)
            start = time.perf_counter()
            step(f, inputs)
            sync(device)
            times[k].append(time.perf_counter() - start)
    return [min(t) for t in times]


def check(ours, theirs, inputs, what):
    (v1, g1), (v2, g2) = step(ours, inputs), step(theirs, inputs)
    torch.testing.assert_close(v1, v2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g1, g2, rtol=1e-4, atol=1e-9)
    print("check %-28s values and gradients agree with torchvision" % what)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-compile", action="store_true", help="eager only")
    parser.add_argument("--check", action="store_true", help="compare with torchvision before timing")
    args = parser.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":
        return     # the docs test checks the command line only
    device = args.device
    generator = torch.Generator().manual_seed(0)
    focal = lossc_torch.load(EXAMPLES / "focal.loss", alpha=0.25, gamma=2.0)
    giou = lossc_torch.load(EXAMPLES / "giou.loss")
    cases = [
        ("focal", focal, lambda x, y: torchvision.ops.sigmoid_focal_loss(x, y, 0.25, 2.0, "mean"),
         focal_inputs(args.n, device, generator)),
        ("giou", giou, lambda p, t: torchvision.ops.generalized_box_iou_loss(p, t, reduction="mean"),
         box_inputs(args.n, device, generator)),
    ]
    print("torch %s, torchvision %s, device %s, %d threads, n = %d elements, float32, value + gradient, best of %d"
          % (torch.__version__, torchvision.__version__, device, torch.get_num_threads(), args.n, args.reps))
    rows = []
    for name, ours, theirs, inputs in cases:
        if args.check:
            check(ours, theirs, inputs, name + " (eager)")
        a, b = best_times([ours, theirs], inputs, args.reps, device)
        rows.append((name, "eager", a, b))
        if not args.no_compile:
            torch._dynamo.reset()
            cours, ctheirs = torch.compile(ours, fullgraph=True), torch.compile(theirs, fullgraph=True)
            if args.check:
                check(cours, ctheirs, inputs, name + " (compiled)")
            a, b = best_times([cours, ctheirs], inputs, args.reps, device)
            rows.append((name, "compiled", a, b))
    print()
    print("| loss | mode | lossc module (ms) | torchvision (ms) | ratio lossc/torchvision |")
    print("|---|---|---:|---:|---:|")
    for name, mode, a, b in rows:
        print("| %s | %s | %.1f | %.1f | %.2f |" % (name, mode, a * 1e3, b * 1e3, a / b))
    print()
    print("ranking (AP-Loss, PAP) vs the official O(P*N) formulation: bench/torch_ranking_bench.py")


if __name__ == "__main__":
    if "LOSSC" not in os.environ and not any((pathlib.Path(p) / "lossc").exists() for p in os.environ.get("PATH", "").split(":")):
        sys.exit("set LOSSC=/path/to/lossc (e.g. .build/release/lossc)")
    main()
