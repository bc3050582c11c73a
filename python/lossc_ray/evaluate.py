"""One candidate's evaluation, as it runs on a worker: no Ray, no lossc binary needed there.

The candidate's files travel as bytes (so workers need no shared file system); they are written
into a fresh private directory, the evaluator command runs there under /bin/sh in its own
process group with a timeout, and its stdout/stderr come back with the result. The rules are
lossc's own `--evaluator` rules: the last number printed on stdout is the fitness; a non-zero
exit, a timeout, a signal, no number, NaN or infinity is the candidate's failure.
"""
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

#: Placeholders of the evaluator command, and the environment variables that carry the same values
#: (LOSSC_LOSS, ...): the candidate's files, its directory, and the evaluation seed (0 while a search
#: selects, as `lossc search --evaluator` gives it).
PLACEHOLDERS = ("loss", "c", "torch", "dir", "seed")

#: Separators of lossc's last-number rule (ExternalEvaluator.lastNumber in the Swift sources).
_SEPARATORS = re.compile(r"[ \t\n\r:,;=()\[\]{}\"']+")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")

#: How much of each output stream comes back (the tail: a chatty trainer prints megabytes).
OUTPUT_TAIL = 64 * 1024


def substitute(template, values):
    """Replaces each {name} in one pass with the shell-quoted path (substituted text is never
    scanned again, so a path containing '{c}' cannot inject anything)."""
    return _PLACEHOLDER.sub(lambda m: shlex.quote(values.get(m.group(1), "")), template)


def last_number(text):
    """The last number in `text` ('AP: 0.412' -> 0.412), or None; 'nan'/'inf' count (and fail)."""
    best = None
    for token in _SEPARATORS.split(text):
        if not token or "_" in token:
            continue
        try:
            best = float(token)
        except ValueError:
            pass
    return best


def _tail(path):
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - OUTPUT_TAIL))
        return f.read().decode("utf-8", "replace")


def evaluate(candidate_id, files, template, timeout, seed=0):
    """Evaluates one candidate. `files` maps a placeholder name ('loss', 'c', 'torch') to
    (file name, bytes); `seed` is {seed}. Returns a dict: id, fitness or error, stdout, stderr,
    seconds, host."""
    start = time.time()
    work = tempfile.mkdtemp(prefix="lossc-candidate-")
    result = {"id": candidate_id, "host": os.uname().nodename}
    try:
        values = {name: "" for name in PLACEHOLDERS}
        for name, (filename, data) in files.items():
            path = os.path.join(work, os.path.basename(filename))
            with open(path, "wb") as f:
                f.write(data)
            values[name] = path
        values["dir"] = work
        values["seed"] = str(seed)
        env = dict(os.environ)
        env.update({"LOSSC_" + k.upper(): v for k, v in values.items()})
        out_path, err_path = os.path.join(work, ".stdout"), os.path.join(work, ".stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(["/bin/sh", "-c", substitute(template, values)], cwd=work, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            try:
                status = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                status = None
            finally:
                # Whatever the shell left running in its group goes with it.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        result["stdout"], result["stderr"] = _tail(out_path), _tail(err_path)
        if status is None:
            result["error"] = "timed out after %g s" % timeout
        elif status < 0:
            result["error"] = "killed by signal %d" % -status
        elif status != 0:
            result["error"] = "exit status %d" % status
        else:
            value = last_number(result["stdout"])
            if value is None:
                result["error"] = "no number in the evaluator's output"
            elif not math.isfinite(value):
                result["error"] = "the evaluator returned %s" % value
            else:
                result["fitness"] = value
    except OSError as e:
        result["error"] = "could not run the evaluator: %s" % e
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["seconds"] = time.time() - start
    return result
