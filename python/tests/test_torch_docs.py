"""The `sh python` blocks of docs/torch.md run as written (in a scratch directory with
examples/, python/ and bench/ linked, the lossc binary and this Python first on PATH; the
benchmark with LOSSC_ARGS_ONLY=1, which checks its command line only)."""
import os
import pathlib
import re
import subprocess
import sys

import _torch_support as ts

PAGE = ts.REPO / "docs" / "torch.md"


def blocks(info):
    text = PAGE.read_text(encoding="utf-8")
    return re.findall(r"^```" + re.escape(info) + r"\n(.*?)^```$", text, flags=re.S | re.M)


def test_python_blocks_run(lossc, tmp_path):
    found = blocks("sh python")
    assert len(found) >= 3
    for name in ("examples", "python", "bench"):
        (tmp_path / name).symlink_to(ts.REPO / name)
    shim = tmp_path / ".bin"
    shim.mkdir()
    wrapper = shim / "python"     # a script, not a link: a venv's python finds its packages by its own path
    wrapper.write_text("#!/bin/sh\nexec '%s' \"$@\"\n" % sys.executable)
    wrapper.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s:%s" % (shim, pathlib.Path(lossc).parent, os.environ.get("PATH", "")),
               LOSSC=lossc, LOSSC_ARGS_ONLY="1", LOSSC_TORCH_CACHE=str(tmp_path / "cache"))
    for block in found:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, "block failed:\n%s\n--- output:\n%s%s" % (block, result.stdout, result.stderr)


def test_shell_blocks_run(lossc, tmp_path):
    (tmp_path / "examples").symlink_to(ts.REPO / "examples")
    env = dict(os.environ, PATH="%s:%s" % (pathlib.Path(lossc).parent, os.environ.get("PATH", "")))
    for block in blocks("sh"):
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert "class FocalLoss(torch.nn.Module):" in (tmp_path / "focal_loss.py").read_text()
    assert "class BoxLoss(torch.nn.Module):" in (tmp_path / "box_loss.py").read_text()
