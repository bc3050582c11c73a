"""Shared pytest fixtures for lossc's Python suite.

The suite drives the real `lossc` binary: `LOSSC` names it, else `.build/debug/lossc`
(what `swift build` leaves), else `lossc` on PATH.
"""
import os
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _find_lossc():
    env = os.environ.get("LOSSC")
    if env:
        return env
    for config in ("debug", "release"):
        candidate = REPO / ".build" / config / "lossc"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("lossc")


@pytest.fixture(scope="session")
def lossc():
    """Path of the lossc binary under test (skips the test when none is built)."""
    path = _find_lossc()
    if path is None:
        pytest.skip("no lossc binary: run `swift build` or set LOSSC")
    return path


@pytest.fixture(scope="session")
def examples():
    """The repository's examples/ folder."""
    return EXAMPLES
