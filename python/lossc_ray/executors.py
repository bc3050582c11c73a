"""Where candidates run: one Ray task each on a cluster, or a thread pool on this machine (the
same evaluation code; for a single machine, and for tests that compare the two)."""
import concurrent.futures
import os

from .evaluate import evaluate


class RayExecutor:
    """One Ray task per candidate. `max_retries` re-runs a task whose worker or node died
    (Ray's system failures); an evaluator's failure is a result, never retried here."""

    def __init__(self, address, num_cpus=1, num_gpus=0, max_retries=3, timeout=600, template=""):
        import ray  # only the Ray executor needs Ray

        self.ray = ray
        package = os.path.dirname(os.path.abspath(__file__))
        # The evaluation code travels with the job, so workers need only Ray and /bin/sh.
        ray.init(address=address, runtime_env={"py_modules": [package]}, log_to_driver=False,
                 logging_level="ERROR")
        self.task = ray.remote(evaluate).options(num_cpus=num_cpus, num_gpus=num_gpus, max_retries=max_retries,
                                                 retry_exceptions=False)
        self.template, self.timeout = template, timeout

    def submit(self, candidate):
        return self.task.remote(candidate["id"], candidate["files"], self.template, self.timeout)

    def wait(self, handles, timeout):
        """The handles among `handles` that finished within `timeout` seconds, with their result."""
        done, rest = self.ray.wait(list(handles), num_returns=1, timeout=timeout)
        if done and rest:
            done += self.ray.wait(rest, num_returns=len(rest), timeout=0)[0]
        out = []
        for ref in done:
            try:
                out.append((ref, self.ray.get(ref)))
            except self.ray.exceptions.RayError as e:
                # Retries exhausted (or the task was cancelled): the candidate's failure, named.
                out.append((ref, {"error": "ray: %s" % type(e).__name__}))
        return out

    def cancel(self, handles):
        for ref in handles:
            self.ray.cancel(ref, force=True)

    def close(self):
        self.ray.shutdown()


class LocalExecutor:
    """`workers` evaluations at once on this machine, in threads (each runs a subprocess)."""

    def __init__(self, workers, timeout=600, template=""):
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
        self.template, self.timeout = template, timeout

    def submit(self, candidate):
        return self.pool.submit(evaluate, candidate["id"], candidate["files"], self.template, self.timeout)

    def wait(self, handles, timeout):
        done, _ = concurrent.futures.wait(list(handles), timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED)
        return [(f, f.result()) for f in done]

    def cancel(self, handles):
        for f in handles:
            f.cancel()

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)
