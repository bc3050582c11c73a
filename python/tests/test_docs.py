"""Runs the ```sh python blocks of README.md and docs/*.md (the Swift suite runs the others).

Each page's blocks run in order in one scratch directory with `examples/`, `python/` and `bench/`
linked in, `python` (this interpreter, the virtual environment's) and the lossc under test first
on PATH. A ```sh python bench block runs with LOSSC_ARGS_ONLY=1: the benchmark checks its command
line and exits, without the minutes-long run whose numbers the page quotes.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^( *)```(.*)$")


def python_blocks(page):
    """(line, is_bench, script) of every ```sh python block of a page; indented fences lose their indent."""
    blocks, lines, keep, indent, start = [], None, False, 0, 0
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        match = FENCE.match(line)
        if lines is None and match:
            lines, info, indent, start = [], match.group(2).strip(), len(match.group(1)), number
            keep = info in ("sh python", "sh python bench")
        elif lines is not None and line.strip() == "```":
            if keep:
                blocks.append((start, info.endswith("bench"), "\n".join(lines)))
            lines = None
        elif lines is not None:
            lines.append(line[indent:] if line[:indent].strip() == "" else line)
    return blocks


PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
CASES = [page for page in PAGES if python_blocks(page)]


@pytest.mark.parametrize("page", CASES, ids=[p.name for p in CASES])
def test_python_blocks_run(page, lossc, tmp_path):
    for name in ("examples", "python", "bench"):
        (tmp_path / name).symlink_to(REPO / name)
    shim = tmp_path / ".bin"
    shim.mkdir()
    wrapper = shim / "python"   # a script, not a link: a venv's python finds its packages by its own path
    wrapper.write_text("#!/bin/sh\nexec '%s' \"$@\"\n" % sys.executable)
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(shim), os.path.dirname(os.path.abspath(lossc)), os.path.dirname(sys.executable), env.get("PATH", "")])
    env["LOSSC"] = os.path.abspath(lossc)
    env["LOSSC_TORCH_CACHE"] = str(tmp_path / "torch-cache")
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")])
    for line, bench, script in python_blocks(page):
        run_env = dict(env, LOSSC_ARGS_ONLY="1") if bench else env
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=run_env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{page.name}:{line}: block failed\n{script}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
