"""lossc-ray on a real two-node Ray cluster, inside a network namespace of its own.

The test creates a namespace (`ip netns add`, only `lo` up), starts a head node (`ray start
--head`) and a second node joining it, all on 127.0.0.1 inside the namespace, and runs the
driver there: nothing leaves the namespace's loopback. Faults tried: the driver killed mid-run
and started again; the second node's raylet killed mid-generation. The result must equal the
in-process `lossc search --evaluator` run with the same seed (the deterministic evaluator
python/tests/loss_fitness.py), nothing lost. The cluster is stopped (every process in the
namespace killed, by pid) and the namespace deleted whatever happens. Where `ip netns` is not
permitted (not root, no iproute2), the tests are SKIPPED with the reason.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from test_ray_driver import told_in_checkpoint

HERE = pathlib.Path(__file__).resolve().parent
EVALUATOR = "%s %s {loss}" % (sys.executable, HERE / "loss_fitness.py")
SEARCH = ["--kind", "binary", "--population", "80", "--generations", "3", "--top-k", "4", "--seed", "2"]
PARAMS = ["--only", "delta", "--rounds", "1", "--samples", "4", "--seed", "3"]
PARAMS_EVALUATOR = "%s %s {loss}" % (sys.executable, HERE / "delta_fitness.py")
START_TIMEOUT = 180   # `ray start` on two busy shared cores takes 5-60 s
RUN_TIMEOUT = 240


def _netns(*args, timeout=30):
    return subprocess.run(["ip", "netns", *args], capture_output=True, text=True, timeout=timeout)


class Cluster:
    def __init__(self, ns, tmp):
        self.ns, self.tmp, self.port = ns, tmp, 6379
        self.address = "127.0.0.1:%d" % self.port
        self.worker_raylet = None

    def run(self, command, timeout, env=None, **kw):
        return subprocess.run(["ip", "netns", "exec", self.ns, *command], capture_output=True, text=True,
                              timeout=timeout, env=env, **kw)

    def popen(self, command, env, stdout, stderr):
        return subprocess.Popen(["ip", "netns", "exec", self.ns, *command], env=env, stdout=stdout, stderr=stderr)

    def pids(self):
        out = _netns("pids", self.ns).stdout.split()
        return {int(p) for p in out}

    def raylets(self):
        found = set()
        for pid in self.pids():
            try:
                exe = os.readlink("/proc/%d/exe" % pid)
            except OSError:
                continue
            if exe.endswith("/raylet"):
                found.add(pid)
        return found


def _ray_start(cluster, *args):
    ray = str(pathlib.Path(sys.executable).parent / "ray")
    r = cluster.run([ray, "start", *args, "--num-cpus", "1", "--node-ip-address", "127.0.0.1",
                     "--disable-usage-stats"], timeout=START_TIMEOUT, env=_env())
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def _env(**extra):
    env = dict(os.environ)
    # Node failures are noticed within seconds rather than the default half minute.
    env.update({"RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
                "RAY_health_check_timeout_ms": "1000", "RAY_USAGE_STATS_ENABLED": "0"})
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("ray")
    if shutil.which("ip") is None:
        pytest.skip("SKIPPED: no `ip` command (iproute2), so no network namespace for the cluster")
    ns = "lossc-ray-%d" % os.getpid()
    made = _netns("add", ns)
    if made.returncode != 0:
        pytest.skip("SKIPPED: `ip netns add` is not permitted here (%s); the cluster test runs on loopback only"
                    % made.stderr.strip())
    tmp = tempfile.mkdtemp(prefix="lr", dir="/tmp")   # short: Ray's socket paths must fit 107 bytes
    c = Cluster(ns, tmp)
    try:
        up = c.run(["ip", "link", "set", "lo", "up"], timeout=30)
        assert up.returncode == 0, up.stderr
        _ray_start(c, "--head", "--port", str(c.port), "--temp-dir", os.path.join(tmp, "ray"),
                   "--include-dashboard=false")
        before = c.raylets()
        _ray_start(c, "--address", c.address)
        second = c.raylets() - before
        assert len(second) == 1, (before, second)
        c.worker_raylet = second.pop()
        yield c
    finally:
        # Stop the cluster: every process in the namespace, by pid, then the namespace itself.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in c.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + 10
            while c.pids() and time.time() < deadline:
                time.sleep(0.2)
        _netns("delete", ns)
        shutil.rmtree(tmp, ignore_errors=True)


def _in_process(lossc, tmp, name, args):
    """The reference: lossc's own --evaluator run (one machine, no Ray)."""
    # (lossc search's held-out re-evaluation is not part of the driver: compared without it)
    holdout = ["--holdout", "0"] if args[0] == "search" else []
    r = subprocess.run([lossc, *args, "--checkpoint", str(tmp / name), "--quiet", *holdout], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT, env=_env())
    assert r.returncode == 0, r.stderr
    return r.stdout


def _driver(cluster, lossc, args, log, sleep="0"):
    # The sleep goes in the command: the evaluator runs on a Ray worker, not in the driver's environment.
    args = [("LOSSC_TEST_SLEEP=%s " % sleep + a) if a == EVALUATOR else a for a in args]
    cmd = [sys.executable, "-m", "lossc_ray", *args]
    env = _env(LOSSC=lossc, PYTHONPATH=str(HERE.parent))
    return cluster.popen(cmd, env, stdout=open(log.with_suffix(".out"), "w"), stderr=open(log.with_suffix(".err"), "w"))


def _wait_for(path, text, proc, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return
        assert proc.poll() is None, "the driver ended early: " + path.read_text()[-3000:]
        time.sleep(0.2)
    raise AssertionError("no %r in %s within %d s" % (text, path, timeout))


def _finish(proc, log):
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    err = log.with_suffix(".err").read_text()
    assert proc.returncode == 0, err[-3000:]
    return log.with_suffix(".out").read_text(), err


def test_driver_killed_and_restarted_gives_the_uninterrupted_result(cluster, lossc, examples, tmp_path):
    search = SEARCH + ["--from", str(examples / "bce.loss")]
    expected = _in_process(lossc, tmp_path, "reference", ["search", *search, "--evaluator", EVALUATOR])
    assert "evaluated            9" in expected   # 1 + 4 + 4: the run has work in every generation
    args = ["search", "--address", cluster.address, "--checkpoint", str(tmp_path / "ray"), "--evaluator", EVALUATOR,
            "--tell-every", "0", *search]
    log = tmp_path / "first"
    first = _driver(cluster, lossc, args, log, sleep="2")
    told_in_checkpoint(tmp_path / "ray" / "checkpoint.json", 2, first, log.with_suffix(".err"), RUN_TIMEOUT)
    first.kill()    # SIGKILL mid-generation: two results told, two in flight
    first.wait()
    resumed = _driver(cluster, lossc, args, tmp_path / "second", sleep="2")
    out, err = _finish(resumed, tmp_path / "second")
    # Generation 2 went on with the two candidates in flight at the kill, asked again.
    assert "generation 2/3 [....................] 0/2 done" in err, err
    assert out == expected
    assert "failed evaluation    0" in out
    # Every evaluator's stdout and stderr are kept beside the checkpoint.
    assert (tmp_path / "ray" / "ray" / "logs" / "0-0.stdout").read_text().startswith("fitness ")


def test_search_params_round_through_the_driver(cluster, lossc, examples, tmp_path):
    loss = str(examples / "ap_loss.loss")
    ref = subprocess.run([lossc, "search-params", loss, *PARAMS, "--evaluator", PARAMS_EVALUATOR, "--json"],
                         capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert ref.returncode == 0, ref.stderr
    args = ["search-params", loss, "--address", cluster.address, "--checkpoint", str(tmp_path / "state.json"),
            "--evaluator", PARAMS_EVALUATOR, *PARAMS, "--json"]
    out, err = _finish(_driver(cluster, lossc, args, tmp_path / "params"), tmp_path / "params")
    assert out == ref.stdout and '"failed": 0' in out
    assert "round 1/1 [####################] 5/5 done" in err   # 4 candidates and the formula as written


def test_worker_node_lost_mid_generation_loses_nothing(cluster, lossc, examples, tmp_path):
    search = SEARCH + ["--from", str(examples / "bce.loss")]
    expected = _in_process(lossc, tmp_path, "reference", ["search", *search, "--evaluator", EVALUATOR])
    args = ["search", "--address", cluster.address, "--checkpoint", str(tmp_path / "ray"), "--evaluator", EVALUATOR,
            "--max-retries", "3", *search]
    log = tmp_path / "node"
    proc = _driver(cluster, lossc, args, log, sleep="3")
    _wait_for(log.with_suffix(".err"), "generation 2/3 [....", proc, RUN_TIMEOUT)
    time.sleep(1.5)   # both nodes are evaluating a candidate of generation 2 (3 s each)
    os.kill(cluster.worker_raylet, signal.SIGKILL)
    out, err = _finish(proc, log)
    assert out == expected
    assert "failed evaluation    0" in out
    # Generation 2's four candidates all came back (the lost one re-run on the head node).
    assert "generation 2/3 [####################] 4/4 done, 0 failed" in err, err
