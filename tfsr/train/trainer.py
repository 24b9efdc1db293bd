"""Supervised (L1) training of a generator, resumable after a kill.

Layout of a work directory:

    workdir/
      spec.json              the architecture being trained
      checkpoints/           ckpt-<step>.keras (model + optimizer state) and
                             latest.json naming the newest complete one
      logs/                  TensorBoard scalars (loss, lr, val_psnr)
      history.json           one row per checkpoint: step, loss, val PSNR
      model.keras            the trained generator in its deployed form
                             (re-parameterizable blocks collapsed to one
                             conv each), written at the end

The optimizer's `iterations` variable is the step counter, so a resumed run
continues its learning-rate schedule (stretched to a changed `steps`), its
weight averages and its patch stream exactly; a kill loses at most
`checkpoint_every` steps.  With `train.ema` the validation PSNR and
model.keras use the averaged weights; checkpoints hold both.  Checkpoints are written to a temporary name and
renamed, so a kill during a save never leaves a broken file behind.
"""

import json
import math
import os
import shutil
import time

import keras
import numpy as np

from tfsr.arch import as_spec, build_model, deploy
from tfsr.errors import UserError
from tfsr.train.recipe import averaged_weights, follow_steps, make_loss, make_optimizer


class TrainingDiverged(RuntimeError):
    """The loss became NaN/inf; the last good checkpoint is kept."""


def atomic_write_text(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class CheckpointStore:
    """`ckpt-<step>.keras` files plus a `latest.json` pointer, newest `keep` kept.

    Each checkpoint is written under a temporary name and renamed, and only
    then does the pointer move, so a kill never leaves a broken newest
    checkpoint.  Subclasses with `suffix = ""` store a folder per step.
    """

    suffix = ".keras"

    def __init__(self, directory, keep=2):
        self.directory, self.keep = directory, keep
        os.makedirs(directory, exist_ok=True)
        self._pointer = os.path.join(directory, "latest.json")

    def latest(self):
        """Path of the newest complete checkpoint, or None."""
        if not os.path.exists(self._pointer):
            return None
        with open(self._pointer) as f:
            path = os.path.join(self.directory, json.load(f)["file"])
        return path if os.path.exists(path) else None

    def save(self, model, step):
        self._commit(step, model.save)

    def _commit(self, step, write):
        """`write(path)` creates the checkpoint at a temporary path; then it is published."""
        name = f"ckpt-{step}{self.suffix}"
        tmp, final = os.path.join(self.directory, f".{name}.tmp{self.suffix}"), os.path.join(self.directory, name)
        _remove(tmp)
        write(tmp)
        _remove(final)
        os.replace(tmp, final)
        atomic_write_text(self._pointer, json.dumps({"file": name, "step": step}))
        steps = sorted(self._step_of(f) for f in os.listdir(self.directory) if self._step_of(f) is not None)
        for old in steps[: -self.keep]:
            _remove(os.path.join(self.directory, f"ckpt-{old}{self.suffix}"))

    def _step_of(self, filename):
        core = filename[len("ckpt-") : len(filename) - len(self.suffix)]
        ok = filename.startswith("ckpt-") and filename.endswith(self.suffix) and core.isdigit()
        return int(core) if ok else None


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


class ProgressLog(keras.callbacks.Callback):
    """Prints `step i/N  loss  steps/s  ETA` and writes TensorBoard scalars."""

    def __init__(self, trainer):
        super().__init__()
        self.trainer = trainer
        self._t0 = self._step0 = None

    def on_train_begin(self, logs=None):
        # Each chunk of steps restarts the clock: validation and checkpoint
        # time between chunks is not training throughput.
        self._t0 = None

    def on_train_batch_end(self, batch, logs=None):
        t = self.trainer
        step = int(self.model.optimizer.iterations.numpy())
        loss = float(logs["loss"])
        if not math.isfinite(loss):
            self.model.stop_training = True
            t.diverged_at = step
            return
        if self._t0 is None:  # skip the first step: it includes tracing
            self._t0, self._step0 = time.time(), step
            return
        if step % t.cfg.log_every == 0 or step == t.cfg.steps:
            rate = (step - self._step0) / max(time.time() - self._t0, 1e-9)
            t.steps_per_second = rate
            eta = (t.cfg.steps - step) / rate if rate > 0 else float("inf")
            t.log(f"step {step}/{t.cfg.steps}  loss {loss:.4f}  {rate:.1f} steps/s  ETA {_hms(eta)}")
            t.scalars(step, loss=loss, learning_rate=_current_lr(self.model.optimizer), steps_per_second=rate)


def _current_lr(optimizer):
    lr = optimizer.learning_rate
    return float(np.asarray(lr))


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


class Trainer:
    """Trains `spec` on a `PatchDataset` and validates on an eval set.

    Args:
        spec: the `ArchSpec` (or dict) to train.
        train_data: a `tfsr.data.pipeline.PatchDataset`.
        val_pairs: `EvalPair`s for validation PSNR (may be empty).
        workdir: where checkpoints, logs and the model go.
        cfg: a `tfsr.config.train_config()` ConfigDict.
        verbose: print progress lines.
        initial_model: optional model whose weights start the run (when not
            resuming), e.g. a PSNR-trained checkpoint.
    """

    def __init__(self, spec, train_data, val_pairs, workdir, cfg, verbose=True, initial_model=None):
        self.spec = as_spec(spec)
        self.train_data, self.val_pairs = train_data, val_pairs
        self.workdir, self.cfg, self.verbose = workdir, cfg, verbose
        self.initial_model = initial_model
        self.checkpoints = CheckpointStore(os.path.join(workdir, "checkpoints"))
        self.history_path = os.path.join(workdir, "history.json")
        self.steps_per_second = None
        self.diverged_at = None
        self._writer = None
        os.makedirs(workdir, exist_ok=True)

    # ---- output --------------------------------------------------------------
    def log(self, message):
        if self.verbose:
            print(f"[{self.spec.name}] {message}", flush=True)

    def scalars(self, step, **values):
        try:
            import tensorflow as tf
        except ImportError:  # JAX-only machines: no TensorBoard files
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.workdir, "logs"))
        with self._writer.as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)
        self._writer.flush()

    # ---- state -----------------------------------------------------------------
    def _check_spec(self):
        path = os.path.join(self.workdir, "spec.json")
        if os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            if as_spec(saved).to_dict() != self.spec.to_dict():
                raise UserError(
                    f"workdir {self.workdir} holds a run of a different architecture ({path});"
                    " use a new --workdir or the same --arch"
                )
        else:
            atomic_write_text(path, self.spec.to_json(indent=2) + "\n")

    def _load_or_build(self):
        # `train.seed` fixes the initialization as well as the patch stream, so
        # one config trains the same network twice.  Set on resume too: tf.data's
        # seeded shuffle also reads the global seed, and a resumed run must
        # continue the stream the first one read.
        keras.utils.set_random_seed(int(self.cfg.get("seed", 0)))
        latest = self.checkpoints.latest()
        if latest:
            model = keras.models.load_model(latest)
            follow_steps(model.optimizer, self.cfg)
            self.log(f"resuming from {latest} (step {int(model.optimizer.iterations.numpy())})")
            return model
        model = build_model(self.spec)
        if self.initial_model is not None:
            model.set_weights(self.initial_model.get_weights())
        model.compile(optimizer=make_optimizer(self.cfg), loss=make_loss(self.cfg))
        return model

    def _history(self):
        if os.path.exists(self.history_path):
            with open(self.history_path) as f:
                return json.load(f)
        return []

    # ---- work ------------------------------------------------------------------
    def validate(self, model):
        """Mean validation PSNR (dB) of `model`, or None without a val set."""
        if not self.val_pairs:
            return None
        from tfsr.evaluation import evaluate
        from tfsr.inference import KerasUpscaler

        with averaged_weights(model):
            report = evaluate(KerasUpscaler(model, scale=self.spec.scale), self.val_pairs, self.spec.scale)
        return report["mean"]["psnr"]

    def fit(self):
        """Trains to `cfg.steps` (resuming if possible); returns the model.

        Raises:
            TrainingDiverged: the loss became NaN/inf.
        """
        self._check_spec()
        model = self._load_or_build()
        step = int(model.optimizer.iterations.numpy())
        history = [h for h in self._history() if h["step"] <= step]
        callbacks = [ProgressLog(self)]
        if step < self.cfg.steps:
            self.log(f"training {model.count_params():,} params, steps {step}..{self.cfg.steps}")
        while step < self.cfg.steps:
            chunk = min(self.cfg.checkpoint_every, self.cfg.steps - step)
            # Each fit() iterates its dataset from the start: begin at this step's
            # batch, so every chunk (and a resumed run) continues the patch stream.
            batches = self.train_data.dataset(start=step)
            result = model.fit(batches, steps_per_epoch=chunk, epochs=1, verbose=0, shuffle=False, callbacks=callbacks)
            if self.diverged_at is not None:
                raise TrainingDiverged(
                    f"loss became NaN/inf at step {self.diverged_at}; last good checkpoint:"
                    f" {self.checkpoints.latest()}"
                )
            step = int(model.optimizer.iterations.numpy())
            loss = float(result.history["loss"][-1])
            val_psnr = self.validate(model)
            history.append({"step": step, "loss": loss, "val_psnr": val_psnr})
            self.checkpoints.save(model, step)
            atomic_write_text(self.history_path, json.dumps(history, indent=1))
            if val_psnr is not None:
                self.scalars(step, val_psnr=val_psnr)
                self.log(f"step {step}: validation PSNR {val_psnr:.2f} dB (checkpoint saved)")
        final = os.path.join(self.workdir, "model.keras")
        tmp = os.path.join(self.workdir, ".model.tmp.keras")
        with averaged_weights(model):
            deploy(model, self.spec).save(tmp)
        os.replace(tmp, final)
        self.model_path = final
        return model
