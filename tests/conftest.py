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


# Test files, heaviest first, by the summed time of their tests in a full run
# (2026-12-02, 2 cores: test_export 684 s ... test_perceptual 35 s; the rest under 12 s).
# `make test` gives each xdist worker whole files, in collection order
# (--no-loadscope-reorder; xdist's default order is by test count, which ran
# the two-test, 140-second TPSR pipeline file last, beside an idle worker).
HEAVIEST_FIRST = ("test_export.py", "test_latency.py", "test_search.py", "test_dlsr.py", "test_gan.py",
                  "test_arch.py", "test_user_errors.py", "test_tpsr_pipeline.py", "test_prelu_split.py",
                  "test_train.py", "test_outputs.py", "test_reparam.py", "test_equalize.py", "test_cli.py",
                  "test_optuna_peer.py", "test_perceptual.py", "test_weight_rounding.py")


def pytest_collection_modifyitems(items):
    """Heaviest files first, so the last files to start are short ones."""
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's own order is kept


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
