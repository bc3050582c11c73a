"""The driver loop: ask -> one task per candidate -> tell, until lossc says the run is complete.

Everything durable is in the lossc checkpoint: results are told as they arrive (every
`tell_every` seconds), so a killed driver loses only the evaluations in flight; started again,
its first `ask` hands out exactly the candidates still waiting."""
import re
import sys
import time

from .lossc import LosscError


class Progress:
    """One status line: generation, candidates done/failed, best so far. Redrawn in place on a
    terminal, one line per change otherwise (logs)."""

    def __init__(self, stream=None, label="generation"):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label
        self.best = None
        self.last = None

    def show(self, round_no, rounds, done, failed, total):
        width = 20
        filled = width * (done + failed) // max(total, 1)
        best = "-" if self.best is None else "%.4f" % self.best
        where = "%s %s/%s" % (self.label, round_no if round_no is not None else "?", rounds if rounds is not None else "?")
        line = "%s [%s%s] %d/%d done, %d failed, best %s" % (where, "#" * filled, "." * (width - filled), done, total, failed, best)
        if line == self.last:
            return
        self.last = line
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        self.stream.flush()

    def note(self, text):
        """A line of lossc's own progress (the generation's funnel), kept above the bar."""
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text.rstrip("\n") + "\n")
        self.last = None
        self.stream.flush()

    def saw(self, text_or_value):
        """Updates the best from a fitness value, or from lossc's 'best …' progress text."""
        if isinstance(text_or_value, str):
            m = re.findall(r"best(?: so far)? (-?[0-9.]+(?:e-?\d+)?)", text_or_value)
            values = [float(v) for v in m]
        else:
            values = [text_or_value]
        for v in values:
            if self.best is None or v > self.best:
                self.best = v


def drive(run, executor, progress=None, tell_every=2.0, poll=0.5):
    """Runs `run` (a lossc.Run) to completion on `executor`; returns the final report text."""
    progress = progress or Progress(label="generation" if run.mode == "search" else "round")
    while True:
        batch = run.ask()
        if batch.complete:
            return batch.report
        if not batch.candidates:
            continue
        round_no = batch.round
        total, done, failed = len(batch.candidates), 0, 0
        handles = {executor.submit(c): c for c in batch.candidates}
        ready, last_tell = [], time.time()
        progress.show(round_no, batch.rounds, done, failed, total)
        try:
            while handles:
                for handle, result in executor.wait(handles, poll):
                    candidate = handles.pop(handle)
                    result["id"] = candidate["id"]
                    run.keep_output(result)
                    if "fitness" in result:
                        done += 1
                        progress.saw(result["fitness"])
                    else:
                        failed += 1
                    ready.append(result)
                    progress.show(round_no, batch.rounds, done, failed, total)
                if ready and (not handles or time.time() - last_tell >= tell_every):
                    text = _tell(run, ready)
                    ready, last_tell = [], time.time()
                    if text.strip() and not handles:
                        progress.saw(text)
                        progress.note(text)
        except BaseException:
            # Interrupted: what finished is recorded; what runs is cancelled (asked again on restart).
            if ready:
                try:
                    _tell(run, ready)
                except Exception:
                    pass
            executor.cancel(list(handles))
            raise


#: lossc's answers when the round moved on without this driver (another driver's `tell`).
_OVERTAKEN = ("already has a result", "no batch is waiting", "no round is waiting", "the round waiting for results is")


def _tell(run, results):
    """Tells `results`; if lossc says some were told already or their round is over (another
    driver on the same checkpoint got there first), tells only those still waiting."""
    try:
        return run.tell(results)
    except LosscError as e:
        if not any(s in str(e) for s in _OVERTAKEN):
            raise
    waiting = {c["id"] for c in run.ask().candidates}
    rest = [r for r in results if r["id"] in waiting]
    return run.tell(rest) if rest else ""
