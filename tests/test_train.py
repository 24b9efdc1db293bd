import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_tool
from tfsr import samples
from tfsr.arch import zoo
from tfsr.config import train_config
from tfsr.data.evalsets import load_eval_set
from tfsr.data.pipeline import PatchDataset
from tfsr.train import Trainer


def small_config(**overrides):
    cfg = train_config()
    cfg.update(dict(steps=60, batch_size=8, patch_size=16, checkpoint_every=20, log_every=20, learning_rate=2e-3))
    cfg.update(overrides)
    return cfg


def test_training_improves_validation_psnr_and_writes_workdir(tmp_path, capsys):
    spec = zoo.espcn(2)
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    val = load_eval_set(samples.VAL_DIR, 2)
    trainer = Trainer(spec, data, val, str(tmp_path), small_config(steps=200, checkpoint_every=100, log_every=50))
    from tfsr.arch import build_model

    untrained = trainer.validate(build_model(spec))
    model = trainer.fit()
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["step"] for h in history] == [100, 200]
    assert history[-1]["val_psnr"] > untrained + 3  # random init is far worse
    assert int(model.optimizer.iterations.numpy()) == 200
    assert (tmp_path / "model.keras").exists() and (tmp_path / "spec.json").exists()
    assert os.listdir(tmp_path / "logs")  # TensorBoard event files
    out = capsys.readouterr().out
    assert "steps/s" in out and "ETA" in out


def test_a_finished_run_is_not_retrained_and_a_longer_one_resumes(tmp_path, capsys):
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    Trainer(zoo.espcn(2), data, [], str(tmp_path), small_config(steps=40)).fit()
    model = Trainer(zoo.espcn(2), data, [], str(tmp_path), small_config(steps=60)).fit()
    assert int(model.optimizer.iterations.numpy()) == 60
    assert "resuming from" in capsys.readouterr().out
    from tfsr.errors import UserError

    with pytest.raises(UserError, match="different architecture"):
        Trainer(zoo.fsrcnn(2), data, [], str(tmp_path), small_config()).fit()


def test_cli_training_survives_sigkill_and_resumes(tmp_path):
    """Kill tfsr-train mid-run; the rerun resumes from the last checkpoint."""
    workdir = tmp_path / "run"
    args = [
        "--arch=espcn", "--scale=2", f"--workdir={workdir}", "--steps=400",
        "--config.train.checkpoint_every=50", "--config.train.log_every=50",
        "--config.train.batch_size=4", "--config.train.patch_size=12",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfsr.cli.train", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    pointer = workdir / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and not (pointer.exists() and json.loads(pointer.read_text())["step"] >= 100):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(pointer.read_text())["step"]
    assert 100 <= killed_at < 400, "the run should have been killed mid-way"
    assert not (workdir / "model.keras").exists()

    result = run_tool("train", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resuming from" in result.stdout and f"(step {killed_at})" in result.stdout
    history = json.loads((workdir / "history.json").read_text())
    steps = [h["step"] for h in history]
    assert steps == sorted(set(steps)) and steps[-1] == 400  # no step trained twice in the history
    assert (workdir / "model.keras").exists()
