"""The lossc side of the driver: `ask` and `tell` calls to the lossc binary, one short process
each. The lossc checkpoint is the whole state of a run; this module keeps none of its own."""
import json
import os
import re
import shutil
import subprocess
import sys
import time


class LosscError(RuntimeError):
    """lossc refused a call (bad options, a checkpoint of other settings...): its message."""


def find_lossc(explicit=None):
    """The lossc binary: `explicit`, else $LOSSC, else `lossc` on PATH."""
    path = explicit or os.environ.get("LOSSC") or shutil.which("lossc")
    if not path:
        raise LosscError("no lossc binary: pass --lossc PATH, set LOSSC, or put lossc on PATH")
    return path


# Runs a command that is killed when the driver dies (Linux's parent-death signal, which survives
# exec): a `tell` of a killed driver never lands after its successor's first `ask`. Elsewhere
# the command runs as is.
_SHIM = ("import ctypes, os, sys\n"
         "parent = int(sys.argv[1])\n"
         "try:\n    ctypes.CDLL(None).prctl(1, 9)\nexcept (OSError, AttributeError):\n    pass\n"
         "if os.getppid() != parent:\n    sys.exit(137)\n"
         "os.execv(sys.argv[2], sys.argv[2:])\n")


def _dies_with_us(command):
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-c", _SHIM, str(os.getpid()), *command]


class Batch:
    """What one `ask` answered: candidates to evaluate, or the finished run's report."""

    def __init__(self, round_no=None, rounds=None, candidates=(), report=None):
        self.round = round_no
        self.rounds = rounds
        self.candidates = list(candidates)
        self.report = report

    @property
    def complete(self):
        return self.report is not None


class Run:
    """One search driven through ask/tell: `lossc search` (mode 'search', checkpoint DIR) or
    `lossc search-params FILE` (mode 'search-params', checkpoint PATH)."""

    def __init__(self, lossc, mode, checkpoint, options, loss_file=None):
        self.lossc = lossc
        self.mode = mode
        self.checkpoint = os.path.abspath(checkpoint)
        self.options = list(options)
        self.loss_file = loss_file
        #: Results files told, and the evaluators' stdout/stderr, are kept here.
        self.folder = os.path.join(self.checkpoint, "ray") if mode == "search" else self.checkpoint + ".ray"

    def _command(self, verb, *rest):
        if self.mode == "search":
            # The search options only start a run; a resumed one reads them from its checkpoint.
            fresh = not os.path.exists(os.path.join(self.checkpoint, "checkpoint.json"))
            return [self.lossc, "search", verb, *rest, "--checkpoint", self.checkpoint] + (self.options if fresh else [])
        # search-params checks every call's settings against the checkpoint's fingerprint.
        return [self.lossc, "search-params", self.loss_file, verb, *rest, "--checkpoint", self.checkpoint] + self.options

    def _call(self, command):
        p = subprocess.run(_dies_with_us(command), capture_output=True, text=True)
        if p.returncode != 0:
            raise LosscError((p.stderr or p.stdout).strip() or "lossc exited with status %d" % p.returncode)
        return p.stdout, p.stderr

    def ask(self):
        """The next batch (the pending one again, with only its candidates still waiting)."""
        out, err = self._call(self._command("ask"))
        manifest = next((line[len("manifest: "):] for line in out.splitlines() if line.startswith("manifest: ")), None)
        if manifest is None:
            if "is complete" in out or "is complete" in err:
                # The report alone (as `lossc search` prints it), without ask's status line.
                lines = out.splitlines(True)
                return Batch(report="".join(lines[1:] if lines and "is complete" in lines[0] else lines))
            return Batch()   # a generation with no candidate passing the filters: recorded, ask again
        m = re.search(r"(\d+)/(\d+): ", out)
        candidates = []
        with open(manifest) as f:
            for line in f:
                if line.strip():
                    entry = json.loads(line)
                    files = {}
                    for name in ("loss", "c", "torch"):
                        if entry.get(name):
                            with open(entry[name], "rb") as g:
                                files[name] = (os.path.basename(entry[name]), g.read())
                    candidates.append({"id": entry["id"], "files": files})
        return Batch(int(m.group(1)) if m else None, int(m.group(2)) if m else None, candidates)

    def tell(self, results):
        """Records results ({"id", "fitness"} or {"id", "error"} dicts); returns lossc's progress
        text. The file told is kept in the run's folder."""
        os.makedirs(self.folder, exist_ok=True)
        path = os.path.join(self.folder, "results-%d-%d.jsonl" % (time.time() * 1000, os.getpid()))
        with open(path, "w") as f:
            for r in results:
                keep = {"id": r["id"]}
                if "fitness" in r:
                    keep["fitness"] = r["fitness"]
                else:
                    keep["error"] = r["error"]
                f.write(json.dumps(keep) + "\n")
        out, err = self._call(self._command("tell", path))
        return out + err

    def keep_output(self, result):
        """Writes an evaluation's stdout and stderr to FOLDER/logs/ID.stdout|.stderr."""
        logs = os.path.join(self.folder, "logs")
        os.makedirs(logs, exist_ok=True)
        for stream in ("stdout", "stderr"):
            with open(os.path.join(logs, "%s.%s" % (result["id"], stream)), "w") as f:
                f.write(result.get(stream, ""))
