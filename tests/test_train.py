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


def _weights_equal(a, b, atol=0.0):
    import numpy as np

    return all(np.allclose(x, y, atol=atol, rtol=0) for x, y in zip(a.get_weights(), b.get_weights()))


def test_an_interrupted_run_ends_exactly_where_an_uninterrupted_one_does(tmp_path):
    # The patch stream, the schedule and the weight averages all continue
    # exactly after a resume: a run killed after its step-20 checkpoint and
    # resumed ends with the same weights as the run that was not killed.
    import shutil

    import keras

    cfg = small_config(steps=40, checkpoint_every=20, ema=0.9, loss="charbonnier")
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=3)
    keras.utils.set_random_seed(0)
    straight = Trainer(zoo.espcn(2), data, [], str(tmp_path / "a"), cfg, verbose=False).fit()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    checkpoints = tmp_path / "b" / "checkpoints"
    (checkpoints / "ckpt-40.keras").unlink()
    (checkpoints / "latest.json").write_text(json.dumps({"file": "ckpt-20.keras", "step": 20}))
    (tmp_path / "b" / "model.keras").unlink()
    resumed = Trainer(zoo.espcn(2), data, [], str(tmp_path / "b"), cfg, verbose=False).fit()
    assert _weights_equal(straight, resumed, atol=1e-6)
    # Checkpoint intervals do not change the stream either: one 40-step chunk
    # sees the patches two 20-step chunks see.
    cfg.checkpoint_every = 40
    keras.utils.set_random_seed(0)
    one_chunk = Trainer(zoo.espcn(2), data, [], str(tmp_path / "c"), cfg, verbose=False).fit()
    assert _weights_equal(straight, one_chunk, atol=1e-6)
    load = keras.models.load_model
    assert _weights_equal(load(str(tmp_path / "a" / "model.keras")), load(str(tmp_path / "b" / "model.keras")), 1e-6)


def test_train_seed_fixes_the_initialization(tmp_path):
    # One config trains the same network twice; another seed, another one.
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=3)

    def trained(folder, seed):
        return Trainer(zoo.espcn(2), data, [], str(tmp_path / folder), small_config(steps=5, seed=seed), verbose=False).fit()

    first = trained("a", seed=7)
    assert _weights_equal(first, trained("b", seed=7), atol=1e-6)
    assert not _weights_equal(first, trained("c", seed=8), atol=1e-3)


def test_model_keras_holds_the_averaged_weights_and_training_continues_from_the_raw_ones(tmp_path):
    import keras
    import numpy as np

    from tfsr.train.recipe import AveragingAdam, averaged_weights

    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    model = Trainer(zoo.espcn(2), data, [], str(tmp_path), small_config(steps=40, ema=0.99), verbose=False).fit()
    assert isinstance(model.optimizer, AveragingAdam)
    raw = [w.copy() for w in model.get_weights()]
    saved = keras.models.load_model(str(tmp_path / "model.keras"))
    assert not _weights_equal(saved, model, atol=1e-6)  # fit() did not copy the averages in
    with averaged_weights(model):
        assert _weights_equal(saved, model, atol=1e-7)
    assert all(np.array_equal(a, b) for a, b in zip(raw, model.get_weights()))  # and back out
    # The averages are (warmed-up) averages of the path: between start and end.
    checkpoint = keras.models.load_model(str(tmp_path / "checkpoints" / "ckpt-40.keras"))
    assert isinstance(checkpoint.optimizer, AveragingAdam) and _weights_equal(checkpoint, model)


def test_a_resumed_run_decays_its_learning_rate_over_the_new_step_count(tmp_path):
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    Trainer(zoo.espcn(2), data, [], str(tmp_path), small_config(steps=20), verbose=False).fit()
    model = Trainer(zoo.espcn(2), data, [], str(tmp_path), small_config(steps=200), verbose=False).fit()
    schedule = model.optimizer._learning_rate
    assert schedule.decay_steps == 200
    # At step 200 of 200 the cosine has reached its floor, not overshot a 20-step one.
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3 * 0.01, rel=1e-3)


def test_recipe_errors_name_the_field(tmp_path):
    from tfsr.errors import UserError

    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    with pytest.raises(UserError, match="train.loss must be one of"):
        Trainer(zoo.espcn(2), data, [], str(tmp_path / "a"), small_config(loss="l2")).fit()
    with pytest.raises(UserError, match="train.ema must be"):
        Trainer(zoo.espcn(2), data, [], str(tmp_path / "b"), small_config(ema=1.5)).fit()
