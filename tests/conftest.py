"""Shared fixtures: the bundled samples, the optional benchmark data, helpers."""

import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.environ.get("TFSR_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
SHARED_WEIGHTS = os.environ.get("TFSR_SHARED_WEIGHTS", os.path.join(ROOT, "..", "shared", "weights"))

needs_shared_data = pytest.mark.skipif(
    not os.path.isdir(os.path.join(SHARED_DATA, "val")),
    reason=f"benchmark data not found at {SHARED_DATA} (set TFSR_SHARED_DATA)",
)


def shared(*parts):
    return os.path.join(SHARED_DATA, *parts)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def run_tool(tool, *args, timeout=300, env=None):
    """Runs `python -m tfsr.cli.<tool> args...`; returns CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", f"tfsr.cli.{tool}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=full_env,
    )
