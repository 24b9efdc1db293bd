"""TPSR's perceptual stage: discriminators, adversarial losses, GAN training,
discriminator search (small RGB x2 generators on the bundled samples)."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from conftest import ROOT, run_tool
from tfsr import samples
from tfsr.arch import build_model, zoo
from tfsr.config import gan_config
from tfsr.data.evalsets import load_eval_set
from tfsr.data.pipeline import PatchDataset
from tfsr.errors import UserError
from tfsr.gan import BUILTIN_DISCRIMINATORS, DiscriminatorSpec, GanTrainer, adversarial_losses, build_discriminator
from tfsr.gan.space import DiscriminatorHyperModel, DiscriminatorSpace
from tfsr.perceptual import LPIPS, PerceptualLoss, random_lpips_weights
from tfsr.train import TrainingDiverged

TINY_D = {"stages": [{"channels": 8, "kernel": 3, "stride": 2}, {"channels": 16, "kernel": 3, "stride": 2}],
          "norm": "spectral", "dense_units": 0, "name": "tiny"}  # fmt: skip


def generator_spec():
    """ESPCN (RGB, x2) plus a bilinear global skip: near bilinear quality untrained."""
    spec = zoo.espcn(2, channels=3)
    spec.upsampler.global_skip = "bilinear"
    return spec


@pytest.fixture(scope="module")
def lpips_file(tmp_path_factory):
    return random_lpips_weights(str(tmp_path_factory.mktemp("w") / "lpips.npz"), seed=5)


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory):
    """An RGB x2 generator saved the way tfsr-train leaves it (spec.json beside)."""
    folder = tmp_path_factory.mktemp("psnr_run")
    spec = generator_spec()
    keras.utils.set_random_seed(0)
    build_model(spec).save(folder / "model.keras")
    spec.save(str(folder / "spec.json"))
    return str(folder / "model.keras")


def tiny_gan_config(lpips_file, **train):
    cfg = gan_config()
    cfg.train.update({"steps": 12, "batch_size": 4, "patch_size": 16, "checkpoint_every": 6, "log_every": 3, **train})
    cfg.gan.update(dict(lpips_weights=lpips_file, sample_every=6))
    return cfg


def squeeze_file(workdir):
    path = os.path.join(str(workdir), "..", "lpips_squeeze.npz")
    return path if os.path.exists(path) else random_lpips_weights(path, seed=6, backbone="squeeze")


def make_trainer(workdir, lpips_file, cfg=None, perceptual=None, d=TINY_D):
    cfg = cfg or tiny_gan_config(lpips_file)
    spec = generator_spec()
    keras.utils.set_random_seed(0)
    start = build_model(spec)
    return GanTrainer(
        spec,
        DiscriminatorSpec.from_dict(d) if isinstance(d, dict) else d,
        PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=4, color="rgb", seed=0),
        load_eval_set(samples.VAL_DIR, 2, limit=1),
        str(workdir),
        cfg,
        perceptual or PerceptualLoss.from_config("lpips", lpips_weights=lpips_file),
        lpips=[LPIPS.load(lpips_file), LPIPS.load(squeeze_file(workdir))],
        initial_generator=start,
    )


def test_builtin_and_spec_discriminators_build_for_any_size():
    for name, spec in BUILTIN_DISCRIMINATORS.items():
        model = build_discriminator(name)
        assert model.output_shape == (None, 1), name
        assert np.asarray(model(np.zeros((2, 40, 56, 3), np.float32))).shape == (2, 1)
    for norm in ("none", "batch", "spectral"):
        spec = DiscriminatorSpec.from_dict({**TINY_D, "norm": norm})
        layers = [type(layer).__name__ for layer in build_discriminator(spec).layers]
        assert ("SpectralNormalization" in layers) == (norm == "spectral")
        assert ("BatchNormalization" in layers) == (norm == "batch")
        assert DiscriminatorSpec.from_dict(json.loads(spec.to_json())) == spec
    with pytest.raises(UserError, match="norm must be one of"):
        DiscriminatorSpec.from_dict({**TINY_D, "norm": "layer"})
    with pytest.raises(UserError, match="stages\\[0\\].stride"):
        DiscriminatorSpec.from_dict({**TINY_D, "stages": [{"channels": 8, "stride": 0}]})
    with pytest.raises(UserError, match="built-in"):
        build_discriminator("patchgan")


def test_adversarial_losses_reward_the_right_side():
    confident_real, confident_fake = np.full((4, 1), 8.0, np.float32), np.full((4, 1), -8.0, np.float32)
    for kind in ("standard", "ragan"):
        g_loss, d_loss = adversarial_losses(kind)
        # A discriminator that tells them apart has a small loss; the generator a large one.
        assert float(d_loss(confident_real, confident_fake)) < 0.01
        assert float(g_loss(confident_real, confident_fake)) > 5.0
        # Undecided logits: log(2) per term.
        zeros = np.zeros((4, 1), np.float32)
        assert float(d_loss(zeros, zeros)) == pytest.approx(2 * np.log(2) if kind == "standard" else np.log(2), 1e-4)
    with pytest.raises(UserError, match="config.gan.loss"):
        adversarial_losses("wgan")


def test_gan_training_logs_every_loss_saves_pairs_and_resumes(tmp_path, lpips_file, capsys):
    trainer = make_trainer(tmp_path, lpips_file)
    trainer.fit()
    out = capsys.readouterr().out
    assert "pixel" in out and "perceptual" in out and "adversarial" in out and "steps/s" in out
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["step"] for h in history] == [6, 12]
    assert all(k in history[-1] for k in ("val_psnr", "val_lpips", "val_lpips_squeeze", "d_loss", "g_loss", "start_psnr"))
    assert history[-1]["val_lpips"] != history[-1]["val_lpips_squeeze"]  # two networks, two opinions
    latest = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == 12
    assert sorted(os.listdir(tmp_path / "checkpoints" / "ckpt-12")) == ["discriminator.keras", "generator.keras"]
    assert (tmp_path / "generator.keras").exists()

    # TensorBoard: one scalar per loss term, validation scores and a sample image.
    import tensorflow as tf

    tags = set()
    for event_file in os.listdir(tmp_path / "logs"):
        for event in tf.compat.v1.train.summary_iterator(str(tmp_path / "logs" / event_file)):
            tags.update(v.tag for v in event.summary.value)
    assert {"pixel", "perceptual", "adversarial", "d_loss", "d_real", "d_fake", "val_psnr", "val_lpips"} <= tags
    assert "bicubic|sr|hr" in tags

    # Longer run in the same workdir: both networks and optimizers resume.
    cfg = tiny_gan_config(lpips_file, steps=18)
    g = make_trainer(tmp_path, lpips_file, cfg).fit()
    assert "resuming from" in capsys.readouterr().out
    assert int(g.optimizer.iterations.numpy()) == 18
    d = keras.models.load_model(tmp_path / "checkpoints" / "ckpt-18" / "discriminator.keras")
    assert int(d.optimizer.iterations.numpy()) == 18
    with pytest.raises(UserError, match="different model"):
        make_trainer(tmp_path, lpips_file, cfg, d="srgan").fit()


class _NaNWhenPoisoned:
    """A perceptual loss that returns NaN while `poison` > 0 (a diverging run)."""

    def __init__(self, loss, poison):
        self.loss, self.poison = loss, poison

    def __call__(self, sr, hr):
        import tensorflow as tf

        return tf.where(self.poison > 0, tf.constant(float("nan")), self.loss(sr, hr))


def test_non_finite_steps_are_skipped_then_stop_with_the_last_good_checkpoint(tmp_path, lpips_file, capsys):
    import tensorflow as tf

    poison = tf.Variable(0.0)
    perceptual = _NaNWhenPoisoned(PerceptualLoss.from_config("lpips", lpips_weights=lpips_file), poison)
    trainer = make_trainer(tmp_path, lpips_file, perceptual=perceptual)
    trainer.on_step = lambda step: poison.assign(1.0 if step >= 7 else 0.0)
    with pytest.raises(TrainingDiverged, match="non-finite steps in a row"):
        trainer.fit()
    assert "step skipped" in capsys.readouterr().out
    latest = json.loads((tmp_path / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == 6  # the last good pair is kept
    g = keras.models.load_model(tmp_path / "checkpoints" / "ckpt-6" / "generator.keras")
    assert all(np.isfinite(w).all() for w in g.get_weights())


def test_a_psnr_collapse_counts_as_divergence(tmp_path, lpips_file):
    cfg = tiny_gan_config(lpips_file, learning_rate=0.5)  # absurd: the generator falls apart
    cfg.gan.max_psnr_drop = 1.0
    with pytest.raises(TrainingDiverged, match="validation PSNR fell"):
        make_trainer(tmp_path, lpips_file, cfg).fit()


def test_discriminator_hypermodel_maps_specs_exactly():
    import keras_tuner

    hypermodel = DiscriminatorHyperModel(DiscriminatorSpace(min_stages=2, max_stages=4))
    rng = np.random.default_rng(0)
    for _ in range(20):
        spec = hypermodel.space.sample(rng)
        child = hypermodel.space.mutate(hypermodel.space.crossover(spec, hypermodel.space.sample(rng), rng), rng)
        for s in (spec, child):
            hp = keras_tuner.HyperParameters()
            hypermodel.spec_from_hp(hp)  # declare
            hp.values.update(hypermodel.values_from_spec(s))
            assert hypermodel.spec_from_hp(hp).to_dict() == {**s.to_dict(), "name": "searched_discriminator"}
            assert 2 <= len(s.stages) <= 4


def _search_args(generator_file, lpips_file, workdir, trials=3):
    return [
        f"--generator={generator_file}", f"--lpips_weights={lpips_file}", "--config.gan.perceptual=lpips", f"--workdir={workdir}",
        f"--max_trials={trials}", "--steps=4", "--config.search.population_size=2",
        "--config.train.checkpoint_every=2", "--config.train.batch_size=4", "--config.train.patch_size=16",
        "--config.space.max_stages=3", "--config.space.channels=(8,16)", "--config.train.val_limit=1",
    ]  # fmt: skip


def test_discriminator_search_cli_writes_the_front_and_resumes(tmp_path, generator_file, lpips_file):
    workdir = tmp_path / "dsearch"
    result = run_tool("search_discriminator", *_search_args(generator_file, lpips_file, workdir))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("GAN training for 4 steps") == 3
    front = json.loads((workdir / "front.json").read_text())
    assert front["front"] and len(front["trials"]) == 3
    lpips = [r["lpips"] for r in front["front"]]
    psnr = [r["psnr"] for r in front["front"]]
    assert lpips == sorted(lpips) and psnr == sorted(psnr)  # a real front: better LPIPS costs PSNR
    assert (workdir / "front.png").stat().st_size > 0
    top = sorted(os.listdir(workdir / "top"))
    DiscriminatorSpec.load(str(workdir / "top" / top[0]))

    # Asking for more trials continues the same search; finished trials are not re-run.
    again = run_tool("search_discriminator", *_search_args(generator_file, lpips_file, workdir, trials=4))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "3 already completed" in again.stdout and again.stdout.count("GAN training for") == 1

    # The winner plugs into tfsr-train-gan.
    gan_dir = tmp_path / "gan"
    trained = run_tool(
        "train_gan", f"--generator={generator_file}", f"--discriminator={workdir / 'top' / top[0]}",
        f"--lpips_weights={lpips_file}", "--config.gan.perceptual=lpips", f"--workdir={gan_dir}", "--steps=4", "--config.train.checkpoint_every=2",
        "--config.train.batch_size=4", "--config.train.patch_size=16", "--config.train.val_limit=1",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert (gan_dir / "generator.keras").exists() and "validation psnr" in trained.stdout


def test_train_gan_cli_survives_sigkill_and_resumes(tmp_path, generator_file, lpips_file):
    workdir = tmp_path / "gan"
    args = [
        f"--generator={generator_file}", "--discriminator=srgan",
        f"--lpips_weights={lpips_file}", "--config.gan.perceptual=lpips", f"--workdir={workdir}", "--steps=200", "--config.train.checkpoint_every=4",
        "--config.train.batch_size=2", "--config.train.patch_size=16", "--config.train.val_limit=1",
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfsr.cli.train_gan", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    pointer = workdir / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and not (pointer.exists() and json.loads(pointer.read_text())["step"] >= 8):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(pointer.read_text())["step"]
    assert 8 <= killed_at < 200
    result = run_tool("train_gan", *[a if not a.startswith("--steps") else f"--steps={killed_at + 4}" for a in args])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resuming from" in result.stdout and f"(step {killed_at})" in result.stdout
    steps = [h["step"] for h in json.loads((workdir / "history.json").read_text())]
    assert steps == sorted(set(steps)) and steps[-1] == killed_at + 4
