"""Perceptual + adversarial fine-tuning of a generator, resumable and guarded.

The generator starts from its PSNR-trained weights; each step trains it on

    pixel_weight * L1 + perceptual_weight * perceptual + adversarial_weight * adversarial

and the discriminator on the matching adversarial loss.

Layout of a work directory:

    workdir/
      generator_spec.json, discriminator_spec.json
      checkpoints/ckpt-<step>/      generator.keras + discriminator.keras (each
                                    with its optimizer state); latest.json
                                    names the newest complete pair
      logs/                         TensorBoard: every loss term, D's view of
                                    real/fake, val PSNR/LPIPS, sample images
      history.json                  one row per checkpoint
      generator.keras               the trained generator, written at the end

GAN training is fragile, so a step whose losses or gradients are not finite
is skipped (not applied); `divergence_patience` such steps in a row, or a
validation PSNR more than `max_psnr_drop` dB under the starting
generator's, stop the run with `TrainingDiverged` and the last good
checkpoint kept.  A checkpoint pair is written to a temporary folder and
renamed, so a kill never leaves half a pair.
"""

import json
import os
import time

import keras
import numpy as np

from tfsr.arch import as_spec
from tfsr.gan.discriminator import build_discriminator, resolve_discriminator
from tfsr.gan.losses import adversarial_losses
from tfsr.train.recipe import make_optimizer
from tfsr.train.trainer import CheckpointStore, TrainingDiverged, _hms, atomic_write_text

GENERATOR, DISCRIMINATOR = "generator.keras", "discriminator.keras"
_ADVICE = (
    "Lower --config.train.learning_rate or --config.gan.adversarial_weight and run again"
    " (it resumes from that checkpoint)"
)


class PairCheckpoints(CheckpointStore):
    """`ckpt-<step>/{generator,discriminator}.keras` plus `latest.json`."""

    suffix = ""  # one folder per step

    def save(self, generator, discriminator, step):
        def write(folder):
            os.makedirs(folder)
            generator.save(os.path.join(folder, GENERATOR))
            discriminator.save(os.path.join(folder, DISCRIMINATOR))

        self._commit(step, write)


class GanTrainer:
    """Trains a generator against a discriminator.

    Args:
        generator_spec: the generator's `ArchSpec` (RGB).
        discriminator_spec: a `DiscriminatorSpec` (or built-in name).
        train_data: a `PatchDataset` with `color="rgb"`.
        val_pairs: `EvalPair`s for validation PSNR and LPIPS.
        workdir: where checkpoints, logs and the generator go.
        cfg: a `tfsr.config.gan_config()` ConfigDict (uses `.train`, `.gan`).
        perceptual: a `tfsr.perceptual.PerceptualLoss`.
        lpips: `tfsr.perceptual.LPIPS` metrics for validation scores (one,
            a list, e.g. AlexNet and SqueezeNet, or None): each adds
            "val_<metric_name>".
        initial_generator: the PSNR-trained `keras.Model` to start from.
        on_step: optional `fn(step)` called after every step.
        verbose: print progress lines.
    """

    def __init__(
        self,
        generator_spec,
        discriminator_spec,
        train_data,
        val_pairs,
        workdir,
        cfg,
        perceptual,
        lpips=None,
        initial_generator=None,
        on_step=None,
        verbose=True,
        name="gan",
    ):
        self.g_spec = as_spec(generator_spec)
        self.d_spec = resolve_discriminator(discriminator_spec)
        self.train_data, self.val_pairs, self.workdir = train_data, val_pairs, workdir
        self.cfg, self.gan = cfg.train, cfg.gan
        self.perceptual = perceptual
        self.lpips = list(lpips) if isinstance(lpips, (list, tuple)) else [lpips] if lpips else []
        self.initial_generator, self.on_step, self.verbose, self.name = initial_generator, on_step, verbose, name
        self.g_adv, self.d_adv = adversarial_losses(self.gan.loss)
        self.checkpoints = PairCheckpoints(os.path.join(workdir, "checkpoints"))
        self.history_path = os.path.join(workdir, "history.json")
        self.model_path = os.path.join(workdir, GENERATOR)
        self._writer = None
        os.makedirs(workdir, exist_ok=True)

    # ---- output ------------------------------------------------------------------
    def log(self, message):
        if self.verbose:
            print(f"[{self.name}] {message}", flush=True)

    def _summary(self):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.workdir, "logs"))
        return self._writer

    def scalars(self, step, **values):
        import tensorflow as tf

        with self._summary().as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(name, value)
        self._writer.flush()

    def sample_image(self, generator, step):
        """Writes `bicubic | SR | HR` of a crop of the first validation image."""
        if not self.val_pairs:
            return
        import tensorflow as tf

        from tfsr.inference import BicubicUpscaler, KerasUpscaler

        pair, s = self.val_pairs[0], self.g_spec.scale
        lr = pair.lr[:48, :48]
        sr = KerasUpscaler(generator, scale=s).super_resolve(lr).image
        bicubic = BicubicUpscaler(s).super_resolve(lr).image
        hr = pair.hr[: lr.shape[0] * s, : lr.shape[1] * s]
        strip = [np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a for a in (bicubic, sr, hr)]
        with self._summary().as_default(step=step):
            tf.summary.image("bicubic|sr|hr", np.concatenate(strip, axis=1)[None], max_outputs=1)
        self._writer.flush()

    # ---- state ---------------------------------------------------------------------
    def _check_specs(self):
        for filename, spec in (("generator_spec.json", self.g_spec), ("discriminator_spec.json", self.d_spec)):
            path = os.path.join(self.workdir, filename)
            if os.path.exists(path):
                with open(path) as f:
                    if json.load(f) != spec.to_dict():
                        from tfsr.errors import UserError

                        raise UserError(
                            f"workdir {self.workdir} holds a run of a different model ({path});"
                            " use a new --workdir or the same --generator/--discriminator"
                        )
            else:
                atomic_write_text(path, spec.to_json(indent=2) + "\n")

    def _load_or_build(self):
        from tfsr.arch import build_model

        latest = self.checkpoints.latest()
        if latest:
            g = keras.models.load_model(os.path.join(latest, GENERATOR))
            d = keras.models.load_model(os.path.join(latest, DISCRIMINATOR))
            self.log(f"resuming from {latest} (step {int(g.optimizer.iterations.numpy())})")
            return g, d
        # The perceptual stage fine-tunes what ships: re-parameterizable
        # blocks as their deployed convs (the initial generator is deployed).
        g = build_model(self.g_spec, deployed=True)
        if self.initial_generator is not None:
            g.set_weights(self.initial_generator.get_weights())
        d = build_discriminator(self.d_spec, channels=self.g_spec.channels)
        g.compile(optimizer=make_optimizer(self.cfg))
        d.compile(optimizer=keras.optimizers.Adam(self.gan.d_learning_rate))
        g.optimizer.build(g.trainable_variables)
        d.optimizer.build(d.trainable_variables)
        return g, d

    def _history(self):
        if os.path.exists(self.history_path):
            with open(self.history_path) as f:
                return json.load(f)
        return []

    # ---- steps -----------------------------------------------------------------------
    def _make_step_functions(self, g, d):
        import tensorflow as tf

        gan = self.gan

        @tf.function(reduce_retracing=True)
        def gradients(lr, hr):
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                sr = g(lr, training=True)
                real, fake = d(hr, training=True), d(sr, training=True)
                terms = {
                    "pixel": tf.reduce_mean(tf.abs(sr - hr)),
                    "perceptual": self.perceptual(sr, hr),
                    "adversarial": self.g_adv(real, fake),
                }
                g_loss = (
                    gan.pixel_weight * terms["pixel"]
                    + gan.perceptual_weight * terms["perceptual"]
                    + gan.adversarial_weight * terms["adversarial"]
                )
                d_loss = self.d_adv(real, fake)
            g_grads = g_tape.gradient(g_loss, g.trainable_variables)
            d_grads = d_tape.gradient(d_loss, d.trainable_variables)
            finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(x)) for x in g_grads + d_grads + [g_loss, d_loss]])
            terms.update(
                g_loss=g_loss,
                d_loss=d_loss,
                d_real=tf.reduce_mean(tf.sigmoid(real)),
                d_fake=tf.reduce_mean(tf.sigmoid(fake)),
            )
            return g_grads, d_grads, terms, finite

        @tf.function(reduce_retracing=True)
        def apply(g_grads, d_grads):
            g.optimizer.apply_gradients(zip(g_grads, g.trainable_variables))
            d.optimizer.apply_gradients(zip(d_grads, d.trainable_variables))

        return gradients, apply

    def validate(self, g):
        """`{"val_psnr": dB, "val_lpips": ...}` of the generator (LPIPS if available)."""
        if not self.val_pairs:
            return {}
        from tfsr.evaluation import evaluate
        from tfsr.inference import KerasUpscaler

        extra = {metric.metric_name: metric.score for metric in self.lpips}
        mean = evaluate(KerasUpscaler(g, scale=self.g_spec.scale), self.val_pairs, self.g_spec.scale, extra)["mean"]
        return {f"val_{k}": v for k, v in mean.items() if k != "ssim"}

    def final_scores(self):
        """The validation scores of the last checkpoint (`{"val_psnr": .., "val_lpips": ..}`).

        `fit` validates at the final step, so a finished run's scores are in
        its history; a resumed, already finished run needs no new evaluation.
        """
        history = self._history()
        return {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}

    def _start_psnr(self, history):
        if history and "start_psnr" in history[0]:
            return history[0]["start_psnr"]
        if self.initial_generator is None or not self.val_pairs:
            return None
        return self.validate(self.initial_generator)["val_psnr"]

    def fit(self):
        """Trains to `cfg.train.steps`, resuming if possible; returns the generator.

        Raises:
            TrainingDiverged: non-finite steps or a PSNR collapse; the last
                good checkpoint is kept.
        """
        self._check_specs()
        g, d = self._load_or_build()
        step = int(g.optimizer.iterations.numpy())
        history = [h for h in self._history() if h["step"] <= step]
        start_psnr = self._start_psnr(history)
        gradients, apply = self._make_step_functions(g, d)
        batches = iter(self.train_data.dataset(start=step))  # a resumed run continues the patch stream
        if step < self.cfg.steps:
            self.log(
                f"training G {g.count_params():,} params vs D {self.d_spec.name} {d.count_params():,} params"
                f" ({self.gan.loss}, {self.gan.perceptual}), steps {step}..{self.cfg.steps}"
            )
        bad_in_a_row, t0, step0 = 0, None, step
        while step < self.cfg.steps:
            lr, hr = next(batches)
            g_grads, d_grads, terms, finite = gradients(lr, hr)
            if not bool(finite):
                bad_in_a_row += 1
                self.log(f"step {step + 1}: non-finite loss or gradient, step skipped ({bad_in_a_row} in a row)")
                if bad_in_a_row >= self.gan.divergence_patience:
                    raise TrainingDiverged(
                        f"{bad_in_a_row} non-finite steps in a row at step {step + 1}; last good checkpoint:"
                        f" {self.checkpoints.latest()}. {_ADVICE}"
                    )
                continue
            bad_in_a_row = 0
            apply(g_grads, d_grads)
            step = int(g.optimizer.iterations.numpy())
            if self.on_step:
                self.on_step(step)
            if t0 is None:  # the first step includes tracing
                t0, step0 = time.time(), step
            elif step % self.cfg.log_every == 0 or step == self.cfg.steps:
                values = {k: float(v) for k, v in terms.items()}
                rate = (step - step0) / max(time.time() - t0, 1e-9)
                eta = (self.cfg.steps - step) / rate if rate > 0 else float("inf")
                self.log(
                    f"step {step}/{self.cfg.steps}  G {values['g_loss']:.4f} (pixel {values['pixel']:.4f},"
                    f" perceptual {values['perceptual']:.4f}, adversarial {values['adversarial']:.3f})"
                    f"  D {values['d_loss']:.3f}  {rate:.1f} steps/s  ETA {_hms(eta)}"
                )
                self.scalars(step, **values, steps_per_second=rate)
            if step % self.gan.sample_every == 0:
                self.sample_image(g, step)
            if step % self.cfg.checkpoint_every == 0 or step == self.cfg.steps:
                row = {"step": step, **{k: float(v) for k, v in terms.items()}, **self.validate(g)}
                if start_psnr is not None and "val_psnr" in row:
                    row["start_psnr"] = start_psnr
                    if row["val_psnr"] < start_psnr - self.gan.max_psnr_drop:
                        raise TrainingDiverged(
                            f"validation PSNR fell to {row['val_psnr']:.2f} dB at step {step}, more than"
                            f" {self.gan.max_psnr_drop} dB under the start ({start_psnr:.2f} dB); last good"
                            f" checkpoint: {self.checkpoints.latest()}. {_ADVICE}"
                        )
                history.append(row)
                self.checkpoints.save(g, d, step)
                atomic_write_text(self.history_path, json.dumps(history, indent=1))
                self.scalars(step, **{k: v for k, v in row.items() if k.startswith("val_")})
                shown = ", ".join(
                    f"{k[4:]} {v:.2f} dB" if k == "val_psnr" else f"{k[4:]} {v:.4f}"
                    for k, v in row.items()
                    if k.startswith("val_")
                )
                self.log(f"step {step}: validation {shown or '(no val set)'} (checkpoint saved)")
                t0 = None  # validation time is not training throughput
        tmp = os.path.join(self.workdir, ".generator.tmp.keras")
        g.save(tmp)
        os.replace(tmp, self.model_path)
        return g
