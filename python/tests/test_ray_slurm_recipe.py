"""scripts/slurm/lossc-slurm.sh (the Slurm job-array recipe on ask/tell) against stand-in
`sbatch` and `srun` (no Slurm here): the stand-in sbatch runs each array task in turn with
SLURM_ARRAY_TASK_ID set, and loses task 0 of the first array of several (a node that died) to check that
the candidate is asked again. The result must equal lossc's in-process --evaluator run."""
import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
EVALUATOR = "%s %s {loss}" % (sys.executable, HERE / "loss_fitness.py")
SEARCH = ["--kind", "binary", "--population", "80", "--generations", "3", "--top-k", "4", "--seed", "2"]

SBATCH = r"""#!/bin/sh
# stand-in sbatch: --array=LO-HI runs the script once per index, in turn; other options ignored.
array=
while [ $# -gt 0 ]; do case $1 in --array=*) array=${1#--array=}; shift ;; -*) shift ;; *) break ;; esac; done
script=$1; shift
i=${array%-*}
while [ "$i" -le "${array#*-}" ]; do
    if [ "$i" = 0 ] && [ "${array#*-}" -gt 0 ] && [ ! -e "$LOSE_ONCE" ]; then touch "$LOSE_ONCE"   # its node died
    else SLURM_ARRAY_TASK_ID=$i sh "$script" "$@"; fi
    i=$((i + 1))
done
echo 4242
"""


def test_slurm_recipe_with_stand_in_sbatch(lossc, examples, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(SBATCH)
    (bin_dir / "srun").write_text('#!/bin/sh\nexec "$@"\n')
    for f in ("sbatch", "srun"):
        (bin_dir / f).chmod(0o755)
    search = [*SEARCH, "--from", str(examples / "bce.loss")]
    ref = subprocess.run([lossc, "search", *search, "--evaluator", EVALUATOR, "--checkpoint", str(tmp_path / "ref"),
                          "--quiet", "--holdout", "0"], capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    env = dict(os.environ, LOSSC=lossc, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), LOSE_ONCE=str(tmp_path / "lost"))
    r = subprocess.run(["sh", str(REPO / "scripts/slurm/lossc-slurm.sh"), "-e", EVALUATOR, "-s", "--partition=cpu", "--",
                        "search", "--checkpoint", str(tmp_path / "run"), *search],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "lost").exists()            # one task was lost...
    assert "recorded 3 results; 1 of 4 still waiting" in r.stderr                    # ...and its candidate
    assert "generation 2/3: 1 candidates to evaluate (3 of 4 already told); submitting an array of 1" in r.stderr   # asked again
    report = r.stdout.split("\n", 1)[1]            # after ask's "the run is complete" line
    assert report == ref.stdout
    assert "failed evaluation    0" in report
