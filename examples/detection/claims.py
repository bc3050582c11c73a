"""Re-measure the seeds' published claims on the detection proxy: every row of the table, N seeds.

    python examples/detection/claims.py --seeds 0 1 2 --quick [--jobs 2] [--out results.jsonl]

Each row is one train.py command (printed); each run's JSON line is appended to --out (rows already
there are skipped, so an interrupted table resumes); the table (mean +- std of AP, AP50, AP75 over
seeds) and each claim's verdict are printed as Markdown at the end.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
EX = os.path.relpath(os.path.join(HERE, ".."))


def _loss(name):
    return os.path.join(EX, name + ".loss")


def rows():
    """(row name, train.py arguments)."""
    out = [
        ("BCE + smooth-L1", ["--cls-loss", _loss("bce")]),
        ("focal + smooth-L1", ["--cls-loss", _loss("focal")]),
        ("quality focal + smooth-L1", ["--cls-loss", _loss("quality_focal")]),
        ("CSE B_cls (alpha_t 0.25 outside) + smooth-L1", ["--cls-loss", _loss("cse_b_cls"), "--alpha-t", "0.25"]),
        ("AP-Loss + smooth-L1", ["--cls-loss", _loss("ap_loss")]),
        ("focal + IoU", ["--cls-loss", _loss("focal"), "--box-loss", _loss("iou")]),
        ("focal + GIoU", ["--cls-loss", _loss("focal"), "--box-loss", _loss("giou")]),
        ("focal + CSE A_reg", ["--cls-loss", _loss("focal"), "--box-loss", _loss("cse_a_reg")]),
        ("focal + CSE B_reg", ["--cls-loss", _loss("focal"), "--box-loss", _loss("cse_b_reg")]),
    ]
    out.insert(5, ("PAP (RetinaNet functions, box branch inside)",
                   ["--cls-loss", _loss("pap_retinanet"), "--box-loss", "none"]))
    return out


# (claim, better row, worse row)
CLAIMS = [
    ("focal > BCE (Lin et al. 2017)", "focal + smooth-L1", "BCE + smooth-L1"),
    ("AP-Loss > focal, RetinaNet (Chen et al. 2019)", "AP-Loss + smooth-L1", "focal + smooth-L1"),
    ("PAP > AP-Loss (Tao et al. 2021)", "PAP (RetinaNet functions, box branch inside)", "AP-Loss + smooth-L1"),
    ("PAP > focal (Tao et al. 2021)", "PAP (RetinaNet functions, box branch inside)", "focal + smooth-L1"),
    ("CSE B_cls > focal (Liu et al. 2021)", "CSE B_cls (alpha_t 0.25 outside) + smooth-L1", "focal + smooth-L1"),
    ("CSE A_reg > GIoU (Liu et al. 2021)", "focal + CSE A_reg", "focal + GIoU"),
    ("CSE B_reg > GIoU (Liu et al. 2021)", "focal + CSE B_reg", "focal + GIoU"),
    ("GIoU > smooth-L1 (Rezatofighi et al. 2019)", "focal + GIoU", "focal + smooth-L1"),
]


def run(row, args, seed, budget):
    cmd = [sys.executable, os.path.join(HERE, "train.py"), *args, "--seed", str(seed), *budget]
    print("$ " + " ".join(cmd[1:]), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "{}"
    rec = json.loads(last) if p.returncode == 0 else {"AP": float("nan"), "error": p.returncode}
    rec.update(row=row, seed=seed, command=" ".join(["python"] + cmd[1:]))
    return rec


def stats(vals):
    m = statistics.fmean(vals)
    return m, (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def table(records, seeds):
    by = {}
    for r in records:
        by.setdefault(r["row"], {})[r["seed"]] = r
    lines = ["| row | AP | AP50 | AP75 | APs | APm | seconds/run |", "|---|---|---|---|---|---|---|"]
    means = {}
    for name, _ in rows():
        got = [by.get(name, {}).get(s) for s in seeds]
        got = [g for g in got if g and "error" not in g]
        if not got:
            lines.append(f"| {name} | not run | | | | | |")
            continue
        cells = []
        for k in ("AP", "AP50", "AP75", "APs", "APm"):
            m, sd = stats([g[k] for g in got])
            cells.append(f"{m:.4f} ± {sd:.4f}")
        means[name] = {s: by[name][s]["AP"] for s in seeds if s in by[name] and "error" not in by[name][s]}
        sec = statistics.fmean(g["seconds"] for g in got)
        lines.append(f"| {name} ({len(got)} seeds) | " + " | ".join(cells) + f" | {sec:.0f} |")
    lines += ["", "| claim | AP difference (mean ± std over paired seeds) | seeds where it holds | direction |",
              "|---|---|---|---|"]
    for claim, better, worse in CLAIMS:
        if better not in means or worse not in means:
            lines.append(f"| {claim} | not measured | | |")
            continue
        paired = [s for s in seeds if s in means[better] and s in means[worse]]
        diffs = [means[better][s] - means[worse][s] for s in paired]
        m, sd = stats(diffs)
        holds = sum(d > 0 for d in diffs)
        verdict = "holds" if holds == len(diffs) and m > 0 else ("reversed" if holds == 0 else "mixed")
        lines.append(f"| {claim} | {m:+.4f} ± {sd:.4f} | {holds}/{len(diffs)} | {verdict} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description="the claims table on the detection proxy")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--quick", action="store_true", help="each run at train.py's --quick budget")
    p.add_argument("--steps", type=int), p.add_argument("--batch", type=int), p.add_argument("--eval-images", type=int)
    p.add_argument("--jobs", type=int, default=1, help="runs in parallel (each uses --threads 1 when > 1)")
    p.add_argument("--out", default="claims-results.jsonl")
    p.add_argument("--only", nargs="*", help="row names to run (default all)")
    a = p.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":   # the docs test checks the command line only
        return 0
    budget = ["--quick"] if a.quick else []
    for k in ("steps", "batch", "eval_images"):
        if getattr(a, k) is not None:
            budget += ["--" + k.replace("_", "-"), str(getattr(a, k))]
    if a.jobs > 1:
        budget += ["--threads", "1"]
    done = []
    if os.path.exists(a.out):
        with open(a.out) as f:
            done = [json.loads(line) for line in f if line.strip()]
    have = {(r["row"], r["seed"]) for r in done if "error" not in r}
    todo = [(name, args, s) for s in a.seeds for name, args in rows()
            if (name, s) not in have and (not a.only or name in a.only)]

    def one(item):
        rec = run(*item, budget)
        with open(a.out, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"{rec['row']} seed {rec['seed']}: AP {rec.get('AP')}", file=sys.stderr, flush=True)
        return rec

    with ThreadPoolExecutor(a.jobs) as ex:
        done += list(ex.map(one, todo))
    print(table(done, a.seeds))


if __name__ == "__main__":
    main()
