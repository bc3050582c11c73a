"""The searches of the detection issue, on the detection proxy, with held-out re-scoring.

    python examples/detection/search_study.py --out runs/detection-study [--workers 2]

1. `lossc search` for the classification branch (binary kind, CSE-Autoloss's conventions:
   alpha_t 0.25 outside the searched expression, the matched IoU as w): population 200, top-k 8,
   4 generations, each candidate trained at train.py's default budget with --seed {seed}
   --eval-seed 100{seed}, so the search selects on seed 0 / eval images 1000 and its held-out
   re-evaluation (top 3, seeds 1 and 2) trains and scores on other draws. Focal and BCE are
   scored the same way on seeds 1 and 2 for comparison.
2. `lossc search-params` on PAP's RetinaNet functions, PPO against random search at an equal
   budget (rounds x samples, same seed), each candidate trained for --params-steps steps; then
   the identity start and both results re-trained on 3 fresh seeds (1, 2, 3; eval images 1001..).

Everything lands in --out: the search's checkpoint and JSON report, the parameter searches'
states, summaries and best files, and rescore.jsonl (one train.py JSON line per re-training,
with its command). The summary table is printed at the end; a rerun reuses what is there.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)


def lossc():
    return os.environ.get("LOSSC", "lossc")


def train_command(*args):
    return [sys.executable, os.path.join(HERE, "train.py"), "--threads", "1", *args]


def run_search(out, workers):
    report = os.path.join(out, "search.json")
    if os.path.exists(report):
        return json.load(open(report))
    evaluator = " ".join(shlex.quote(a) for a in train_command("--alpha-t", "0.25")) + \
        " --cls-loss {loss} --seed {seed} --eval-seed 100{seed}"
    cmd = [lossc(), "search", "--kind", "binary", "--population", "200", "--top-k", "8", "--generations", "4",
           "--seed", "1", "--workers", str(workers), "--from", os.path.join(EXAMPLES, "bce.loss"),
           "--checkpoint", os.path.join(out, "search"), "--evaluator", evaluator, "--timeout", "1200",
           "--holdout", "3", "--holdout-seeds", "2", "--format", "json"]
    print("$ " + " ".join(shlex.quote(c) for c in cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    with open(report + ".tmp", "w") as f:
        f.write(p.stdout)
    os.replace(report + ".tmp", report)
    return json.loads(p.stdout)


def run_params(out, method, rounds, samples, steps, workers):
    summary = os.path.join(out, "params-%s.json" % method)
    best = os.path.join(out, "pap-%s.loss" % method)
    if os.path.exists(summary) and os.path.exists(best):
        return json.load(open(summary)), best
    evaluator = " ".join(shlex.quote(a) for a in train_command("--box-loss", "none", "--steps", str(steps),
                                                               "--eval-images", "100")) + " --cls-loss {loss}"
    base = [lossc(), "search-params", os.path.join(EXAMPLES, "pap_retinanet.loss"), "--method", method,
            "--rounds", str(rounds), "--samples", str(samples), "--seed", "1", "--workers", str(workers),
            "--evaluator", evaluator, "--timeout", "1200", "--checkpoint", os.path.join(out, "params-%s.state" % method)]
    print("$ " + " ".join(shlex.quote(c) for c in base + ["--json"]), file=sys.stderr, flush=True)
    p = subprocess.run(base + ["--json"], stdout=subprocess.PIPE, text=True, check=True)
    # the finished state prints the best file again without training anything
    subprocess.run(base + ["--resume", "-o", best], check=True, stdout=subprocess.DEVNULL)
    with open(summary, "w") as f:
        f.write(p.stdout)
    return json.loads(p.stdout), best


def rescore(out, jobs, items):
    """items: (label, train.py args, seed); each result appended to rescore.jsonl once."""
    path = os.path.join(out, "rescore.jsonl")
    done = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
    have = {(r["label"], r["seed"]) for r in done}

    def one(item):
        label, args, seed = item
        cmd = train_command(*args, "--seed", str(seed), "--eval-seed", str(1000 + seed))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        rec = json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {"AP": float("nan")}
        rec.update(label=label, seed=seed, command=" ".join(["python"] + [shlex.quote(c) for c in cmd[1:]]))
        with open(path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return rec

    with ThreadPoolExecutor(jobs) as ex:
        done += list(ex.map(one, [i for i in items if (i[0], i[2]) not in have]))
    return done


def mean_std(values):
    values = [v for v in values if v == v]
    if not values:
        return "n/a"
    return "%.4f ± %.4f" % (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/detection-study")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--params-steps", type=int, default=150)
    a = p.parse_args()
    if os.environ.get("LOSSC_ARGS_ONLY") == "1":   # the docs test checks the command line only
        return 0
    os.makedirs(a.out, exist_ok=True)

    search = run_search(a.out, a.workers)
    print("lossc search (binary, population 200, top-k 8, 4 generations, default train.py budget):")
    print("  funnel: " + ", ".join("%s %s" % kv for kv in search["funnel"].items()))
    for i, c in enumerate(search["heldout"]["candidates"]):
        print("  #%d selected AP %.4f (seed 0), held out %s %s   %s" % (
            i + 1, c["selected"], c["values"], "mean %.4f" % c["mean"] if c["mean"] is not None else "", c["genome"]))
    base = rescore(a.out, a.workers, [(name, ["--cls-loss", os.path.join(EXAMPLES, name + ".loss"), "--alpha-t", "0.25"] if name == "bce"
                                       else ["--cls-loss", os.path.join(EXAMPLES, name + ".loss")], s)
                                      for name in ("focal", "bce") for s in (1, 2)])
    for name in ("focal", "bce"):
        print("  %s on the same held-out seeds: %s" % (name, mean_std([r["AP"] for r in base if r["label"] == name])))

    results = {m: run_params(a.out, m, a.rounds, a.samples, a.params_steps, a.workers) for m in ("ppo", "random")}
    steps = ["--box-loss", "none", "--steps", str(a.params_steps), "--eval-images", "100"]
    items = [("PAP identity start", ["--cls-loss", os.path.join(EXAMPLES, "pap_retinanet.loss"), *steps], s) for s in (1, 2, 3)]
    for m, (summary, best) in results.items():
        items += [("PAP searched, " + m, ["--cls-loss", best, *steps], s) for s in (1, 2, 3)]
    records = rescore(a.out, a.workers, items)
    print("\nsearch-params on PAP (RetinaNet functions), %d rounds x %d samples, %d training steps per candidate:"
          % (a.rounds, a.samples, a.params_steps))
    for m, (summary, _) in results.items():
        print("  %-6s selected AP %.4f (the start scored %.4f on the search's seed)" % (m, summary["bestReward"], summary["initialReward"]))
    print("re-trained on seeds 1, 2, 3 (eval images 1001-1003):")
    for label in ("PAP identity start", "PAP searched, ppo", "PAP searched, random"):
        print("  %-22s AP %s" % (label, mean_std([r["AP"] for r in records if r["label"] == label])))


if __name__ == "__main__":
    sys.exit(main())
