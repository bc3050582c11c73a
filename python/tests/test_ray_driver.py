"""lossc-ray without a cluster: the worker-side evaluation rules, and the driver loop on the
local executor (the same code a Ray task runs), compared with lossc's in-process runs.
The cluster itself is tested in test_ray_cluster.py."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # python/, when not pip-installed
from lossc_ray.evaluate import evaluate, last_number, substitute

HERE = pathlib.Path(__file__).resolve().parent
EVALUATOR = "%s %s {loss}" % (sys.executable, HERE / "loss_fitness.py")
SEARCH = ["--kind", "binary", "--population", "80", "--generations", "3", "--top-k", "4", "--seed", "2"]


def _files(text="loss x: binary\nreturn x\n"):
    return {"loss": ("candidate.loss", text.encode())}


def test_placeholders_are_substituted_once_and_quoted():
    values = {"loss": "/w/{c};touch X", "c": "", "torch": "/w/it's.py", "dir": "/w"}
    assert substitute("run {loss} {c} {torch} {dir} {other}", values) == \
        "run '/w/{c};touch X' '' '/w/it'\"'\"'s.py' /w {other}"


def test_last_number_rule():
    assert last_number("epoch 3\nAP: 0.412\n") == 0.412
    assert last_number("loss=1e-3, done") == 0.001
    assert last_number("no digits here") is None
    assert last_number("AP nan") != last_number("AP nan")   # NaN counts (and then fails)


def test_evaluator_gets_files_environment_and_private_directory():
    r = evaluate("0-1", _files(), 'test "$LOSSC_LOSS" = {loss} && test "$PWD" = "$LOSSC_DIR" && cat {loss} && echo 0.25', 30)
    assert r["fitness"] == 0.25 and r["id"] == "0-1"
    assert r["stdout"] == "loss x: binary\nreturn x\n0.25\n"
    r = evaluate("0-2", _files(), "echo $LOSSC_DIR; echo warn >&2; echo 1", 30)
    assert r["stderr"] == "warn\n" and not os.path.exists(r["stdout"].split()[0])   # removed afterwards


@pytest.mark.parametrize("command, error", [
    ("exit 3", "exit status 3"),
    ("echo no number", "no number in the evaluator's output"),
    ("echo nan", "the evaluator returned nan"),
    ("kill -9 $$", "killed by signal 9"),
])
def test_evaluator_failures_are_the_candidates(command, error):
    r = evaluate("0-0", _files(), command, 30)
    assert r["error"] == error and "fitness" not in r


def test_timeout_kills_the_whole_group_and_leftovers_do_not_block():
    start = time.time()
    r = evaluate("0-0", _files(), "sleep 30; echo 1", 0.5)
    assert r["error"] == "timed out after 0.5 s" and time.time() - start < 10
    start = time.time()
    r = evaluate("0-0", _files(), "sleep 30 & echo 0.5", 30)   # a child left running
    assert r["fitness"] == 0.5 and time.time() - start < 10


def told_in_checkpoint(path, count, proc, log, timeout=200):
    """Waits until the pending generation of a lossc search checkpoint has `count` results."""
    deadline = time.time() + timeout
    while True:
        try:
            pending = json.loads(path.read_text()).get("pending") or {}
            if len(pending.get("told") or {}) >= count:
                return
        except (OSError, ValueError):
            pass
        assert proc.poll() is None and time.time() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)


def _lossc_run(lossc, args, **kw):
    r = subprocess.run([lossc, *args], capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _driver(lossc, args, **kw):
    env = dict(os.environ, LOSSC=lossc, PYTHONPATH=str(HERE.parent))
    return subprocess.run([sys.executable, "-m", "lossc_ray", *args], capture_output=True, text=True,
                          timeout=300, env=env, **kw)


@pytest.fixture(scope="module")
def reference(lossc, examples, tmp_path_factory):
    """lossc search --evaluator, in process: the result every driver run must give (without the
    held-out re-evaluation, which the driver does not run)."""
    tmp = tmp_path_factory.mktemp("reference")
    out = _lossc_run(lossc, ["search", *SEARCH, "--from", str(examples / "bce.loss"), "--evaluator", EVALUATOR,
                             "--checkpoint", str(tmp / "ckpt"), "--quiet", "--holdout", "0"])
    assert "evaluated            9" in out
    return out


@pytest.mark.parametrize("workers", [1, 3])
def test_same_answer_as_one_machine(lossc, examples, reference, tmp_path, workers):
    r = _driver(lossc, ["search", "--local", str(workers), "--checkpoint", str(tmp_path / "c"), "--evaluator", EVALUATOR,
                        *SEARCH, "--from", str(examples / "bce.loss")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == reference
    assert "generation 3/3 [####################] 4/4 done, 0 failed" in r.stderr


def test_driver_killed_mid_generation_resumes_to_the_same_answer(lossc, examples, reference, tmp_path):
    args = ["search", "--local", "2", "--checkpoint", str(tmp_path / "c"), "--tell-every", "0",
            "--evaluator", "LOSSC_TEST_SLEEP=2 " + EVALUATOR, *SEARCH, "--from", str(examples / "bce.loss")]
    env = dict(os.environ, LOSSC=lossc, PYTHONPATH=str(HERE.parent))
    err = tmp_path / "first.err"
    with open(err, "w") as e:
        p = subprocess.Popen([sys.executable, "-m", "lossc_ray", *args], stdout=subprocess.DEVNULL, stderr=e, env=env)
        told_in_checkpoint(tmp_path / "c" / "checkpoint.json", 2, p, err)   # the other two in flight
        p.send_signal(signal.SIGKILL)
        p.wait()
    r = _driver(lossc, args)
    assert r.returncode == 0, r.stderr
    assert "generation 2/3 [....................] 0/2 done" in r.stderr   # only those in flight, asked again
    assert r.stdout == reference


def test_evaluator_failures_fail_candidates_not_the_run(lossc, examples, tmp_path):
    fail = "LOSSC_TEST_FAIL=sin " + EVALUATOR   # candidates using sin fail (exit 3)
    expected = _lossc_run(lossc, ["search", *SEARCH, "--from", str(examples / "bce.loss"), "--evaluator", fail,
                                  "--checkpoint", str(tmp_path / "ref"), "--quiet", "--holdout", "0"])
    failed = int(expected.split("failed evaluation")[1].split()[0])
    assert failed > 0
    r = _driver(lossc, ["search", "--local", "2", "--checkpoint", str(tmp_path / "c"), "--evaluator", fail,
                        *SEARCH, "--from", str(examples / "bce.loss")])
    assert r.returncode == 0 and r.stdout == expected
    logs = tmp_path / "c" / "ray" / "logs"
    assert len(list(logs.glob("*.stdout"))) == 9   # every evaluation's output kept, failed ones too


def test_search_params_same_answer_as_one_machine(lossc, examples, tmp_path):
    evaluator = "%s %s {loss}" % (sys.executable, HERE / "delta_fitness.py")
    opts = ["--only", "delta", "--rounds", "3", "--samples", "4", "--seed", "5", "--json"]
    loss = str(examples / "ap_loss.loss")
    expected = _lossc_run(lossc, ["search-params", loss, *opts, "--evaluator", evaluator])
    summary = json.loads(expected)
    # The best is the evaluator's closed form at the best delta (written independently here).
    delta = summary["values"]["delta"]
    assert abs(summary["bestReward"] - 1 / (1 + (delta - 0.7) ** 2)) < 1e-5
    r = _driver(lossc, ["search-params", loss, "--local", "3", "--checkpoint", str(tmp_path / "s.json"),
                        "--evaluator", evaluator, *opts])
    assert r.returncode == 0, r.stderr
    assert r.stdout == expected


def test_lossc_refusals_are_reported(lossc, examples, tmp_path):
    r = _driver(lossc, ["search-params", str(examples / "focal.loss"), "--local", "1", "--checkpoint",
                        str(tmp_path / "s.json"), "--evaluator", "echo 1"])
    assert r.returncode == 2 and "lossc-ray: lossc search-params: error: " in r.stderr and "is not a ranking loss" in r.stderr
    r = _driver(lossc, ["search", "--local", "1", "--evaluator", "echo 1"])
    assert r.returncode == 2 and "--checkpoint" in r.stderr
