"""`lossc-ray` (and `python -m lossc_ray`): lossc's searches with one Ray task per candidate.

    lossc-ray search --address HOST:PORT --checkpoint DIR --evaluator 'CMD {loss} {torch} {dir}' \\
        [--num-cpus 1 --num-gpus 0 --max-retries 3 --timeout 600] [lossc search options: --kind binary ...]
    lossc-ray search-params FILE --address HOST:PORT --checkpoint PATH --evaluator CMD [search-params options]

Options it does not know are lossc's (`lossc search --help`, `lossc search-params --help`).
`--local N` runs N evaluations at once on this machine instead of a cluster.
"""
import argparse
import os
import sys

from .driver import Progress, drive
from .lossc import LosscError, Run, find_lossc


def parser():
    p = argparse.ArgumentParser(prog="lossc-ray", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Placeholders {loss} {c} {torch} {dir} are replaced by the candidate's files "
                                       "(quoted) and also given as LOSSC_LOSS, LOSSC_C, LOSSC_TORCH, LOSSC_DIR; {seed} / LOSSC_SEED is 0; "
                                       "the last number the command prints is the fitness.")
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("search", "search-params"):
        s = sub.add_parser(mode, help="lossc %s, one Ray task per candidate" % mode)
        if mode == "search-params":
            s.add_argument("file", metavar="FILE", help="the ranking loss whose params are searched")
        where = s.add_mutually_exclusive_group(required=True)
        where.add_argument("--address", help="the Ray cluster (HOST:PORT of the head, or 'auto')")
        where.add_argument("--local", type=int, metavar="N", help="run N evaluations at once on this machine, without Ray")
        s.add_argument("--checkpoint", required=True,
                       help="the lossc checkpoint (DIR for search, PATH for search-params): the run's whole state")
        s.add_argument("--evaluator", required=True, help="shell command per candidate")
        s.add_argument("--num-cpus", type=float, default=1, help="CPUs per task (default 1)")
        s.add_argument("--num-gpus", type=float, default=0, help="GPUs per task (default 0)")
        s.add_argument("--max-retries", type=int, default=3, help="re-runs of a task whose worker or node died (default 3)")
        s.add_argument("--timeout", type=float, default=600, help="seconds per evaluation (default 600)")
        s.add_argument("--tell-every", type=float, default=2.0, help="seconds between recording results (default 2)")
        s.add_argument("--lossc", help="the lossc binary (default: $LOSSC, else lossc on PATH)")
    return p


def main(argv=None):
    args, options = parser().parse_known_args(argv)
    # Ray prints cluster events (a node lost, worker logs) on stdout from its own threads and
    # processes: during the run, file descriptor 1 goes to stderr; stdout gets the report only.
    sys.stdout.flush()
    report_fd = os.dup(1)
    os.dup2(2, 1)
    try:
        status, report = _run(args, options)
    finally:
        sys.stdout.flush()
        os.dup2(report_fd, 1)
        os.close(report_fd)
    if report:
        sys.stdout.write(report)
        sys.stdout.flush()
    return status


def _run(args, options):
    try:
        run = Run(find_lossc(args.lossc), args.mode, args.checkpoint, options, getattr(args, "file", None))
        if args.local is not None:
            from .executors import LocalExecutor
            executor = LocalExecutor(max(1, args.local), timeout=args.timeout, template=args.evaluator)
        else:
            from .executors import RayExecutor
            executor = RayExecutor(args.address, num_cpus=args.num_cpus, num_gpus=args.num_gpus,
                                   max_retries=args.max_retries, timeout=args.timeout, template=args.evaluator)
        try:
            report = drive(run, executor, Progress(label="generation" if args.mode == "search" else "round"),
                           tell_every=args.tell_every)
        finally:
            executor.close()
    except LosscError as e:
        sys.stderr.write("lossc-ray: %s\n" % e)
        return 2, None
    except KeyboardInterrupt:
        sys.stderr.write("\nlossc-ray: interrupted; run the same command again to continue\n")
        return 130, None
    return 0, report


if __name__ == "__main__":
    sys.exit(main())
