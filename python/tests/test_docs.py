"""Runs the ```sh python blocks of README.md and docs/*.md (the Swift suite runs the others).

Each page's blocks run in order in one scratch directory with `examples/` and `python/` linked in,
this interpreter's bin directory (the virtual environment) and the lossc under test first on PATH.
"""
import os
import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^( *)```(.*)$")


def python_blocks(page):
    """The (line, script) of every ```sh python block of a page; indented fences lose their indent."""
    blocks, lines, keep, indent, start = [], None, False, 0, 0
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), 1):
        match = FENCE.match(line)
        if lines is None and match:
            lines, keep, indent, start = [], match.group(2).strip() == "sh python", len(match.group(1)), number
        elif lines is not None and line.strip() == "```":
            if keep:
                blocks.append((start, "\n".join(lines)))
            lines = None
        elif lines is not None:
            lines.append(line[indent:] if line[:indent].strip() == "" else line)
    return blocks


PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
CASES = [page for page in PAGES if python_blocks(page)]


@pytest.mark.parametrize("page", CASES, ids=[p.name for p in CASES])
def test_python_blocks_run(page, lossc, tmp_path):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    (tmp_path / "python").symlink_to(REPO / "python")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(lossc)),
                                   os.path.dirname(os.path.abspath(os.sys.executable)), env.get("PATH", "")])
    env["LOSSC"] = os.path.abspath(lossc)
    env["NO_COLOR"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")])
    for line, script in python_blocks(page):
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{page.name}:{line}: block failed\n{script}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
