"""`ProxyTuner`: scores a candidate by incomplete training (FALSR's evaluator).

Each trial builds the spec from its hyperparameters, trains it for a short,
fixed budget on random patches and reports validation PSNR with the spec's
cost.  The spec is stored beside the trial (`trial_<id>/spec.json`).  A NaN
loss or an out-of-memory error fails the trial (recorded, not retried, the
search goes on).  While a trial runs, the tuner sends heartbeats so a
chief oracle can tell a slow worker from a dead one.
"""

import math
import os
import threading
import time

import keras
import keras_tuner
import numpy as np

from tfsr.arch import build_model, count
from tfsr.evaluation import evaluate
from tfsr.inference import KerasUpscaler
from tfsr.train.recipe import averaged_weights, make_loss, make_optimizer


class _DivergenceWatch(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and remembers it."""

    diverged = False

    def on_train_batch_end(self, batch, logs=None):
        if logs and not math.isfinite(float(logs.get("loss", 0.0))):
            self.diverged = True
            self.model.stop_training = True


class PatientTuner(keras_tuner.Tuner):
    """A Tuner for a `MultiObjectiveOracle`'s chief/worker mode.

    * It waits politely while the oracle answers IDLE (other workers still
      finishing the last trials) instead of polling it in a tight loop.
    * While a trial runs, a background thread sends the oracle a heartbeat
      every `heartbeat_seconds`, whatever the trial is doing (tracing a
      model, training, validating), so a chief can tell a slow worker from
      a dead one.
    """

    heartbeat_seconds = 5.0
    _calls_without_trial = 0
    _stop_beating = None

    def pre_create_trial(self):
        self._calls_without_trial += 1
        if self._calls_without_trial > 1:
            time.sleep(1.0)

    def on_trial_begin(self, trial):
        self._calls_without_trial = 0
        self._stop_beating = threading.Event()
        threading.Thread(target=self._beat, args=(trial.trial_id, self._stop_beating), daemon=True).start()
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        if self._stop_beating is not None:
            self._stop_beating.set()
        super().on_trial_end(trial)

    def _beat(self, trial_id, stop):
        while not stop.wait(self.heartbeat_seconds):
            try:
                self.oracle.update_trial(trial_id, {})
            except Exception:  # the chief is gone: the trial's own calls report it
                return


class ProxyTuner(PatientTuner):
    """Args:
        hypermodel: a `FalsrHyperModel`.
        oracle: any keras-tuner oracle over the hypermodel's hyperparameters.
        train_data: a `PatchDataset`.
        val_pairs: `EvalPair`s for the PSNR objective.
        proxy: ConfigDict with `steps`, `learning_rate` (a `train_config()`).
        lr_size: LR size the reported mult-adds are counted for.
        score: "float": the score is the proxy-trained model's validation
            PSNR; "int8": its int8 TFLite file's (calibrated on
            `CALIBRATION_PATCHES` training patches with min/max ranges, the
            kernels rounded with the error compensated, written to the
            trial's folder), with the float PSNR reported as `psnr_float`.
    """

    CALIBRATION_PATCHES = 64

    def __init__(self, hypermodel, oracle, train_data, val_pairs, proxy, lr_size=(480, 480), score="float",
                 **kwargs):  # fmt: skip
        self.train_data, self.val_pairs = train_data, val_pairs
        self.proxy, self.lr_size, self.score = proxy, tuple(lr_size), score
        self._calibration = None
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)

    def run_trial(self, trial, *args, **kwargs):
        spec = self.hypermodel.spec_from_hp(trial.hyperparameters)
        spec.name = f"trial_{trial.trial_id}"
        folder = self.get_trial_dir(trial.trial_id)
        spec.save(os.path.join(folder, "spec.json"))
        print(f"[{self.tuner_id}] trial {trial.trial_id}: proxy training for {self.proxy.steps} steps", flush=True)
        return self.score_spec(spec, folder)

    def score_spec(self, spec, folder):
        """Proxy-trains `spec` and returns its metrics ({"psnr", "mult_adds",
        "params"}, and "psnr_float" for the int8 score); the int8 file, if
        any, goes to `folder` (the last seed's).  Raises `FailedTrialError` for a diverged or
        out-of-memory candidate.  (Other drivers, such as the Optuna peer,
        score specs through it too.)

        With `proxy.seeds` = n > 1 the spec is proxy-trained n times, the
        k-th (from 0) with the patch stream and initialization of seed + k,
        and the PSNRs are their means: at 1,000 steps one
        re-parameterized net spread over 0.4-0.7 dB across three seeds,
        more than the gaps between the best nets of a cost band."""
        cost = count(spec, self.lr_size)
        runs = [self._score_once(spec, folder, k) for k in range(int(self.proxy.get("seeds", 1)))]
        metrics = {key: float(np.mean([run[key] for run in runs])) for key in runs[0]}
        metrics.update(mult_adds=float(cost.mult_adds), params=float(cost.params))
        return metrics

    def _score_once(self, spec, folder, k):
        """{"psnr"} (and "psnr_float" for the int8 score) of the `k`-th proxy
        training: patch stream `train_data.seed + k`, seed `proxy.seed + k`."""
        seed = int(self.proxy.seed) + k
        # A fresh pipeline per trial, made under the proxy seed alone (tf.data's
        # shuffle also reads TensorFlow's global seed): every trial reads the
        # same patches from the first one on, in any process (a worker, a
        # resumed search).  One pipeline shared by all trials did not: each
        # fit() opened a new iterator of it, and a seeded shuffle reshuffles
        # per iterator, so the same spec scored 0.6 dB apart twice in a row.
        keras.utils.set_random_seed(seed)
        dataset = self.train_data.with_seed(self.train_data.seed + k).dataset()
        # Initialized from the architecture, not the trial: one spec scores the
        # same whenever and wherever it is proposed.
        keras.utils.set_random_seed(seed + spec.fingerprint() % 2**30)
        model = build_model(spec)
        # The proxy's own recipe (config.proxy: rate and schedule, EMA, loss),
        # read as tfsr-train reads config.train, so the config means what it says.
        model.compile(optimizer=make_optimizer(self.proxy), loss=make_loss(self.proxy))
        watch = _DivergenceWatch()
        try:
            model.fit(
                dataset,
                steps_per_epoch=self.proxy.steps,
                epochs=1,
                verbose=0,
                shuffle=False,
                callbacks=[watch],
            )
        except MemoryError as e:
            raise keras_tuner.errors.FailedTrialError(f"out of memory: {e}") from None
        except Exception as e:
            if type(e).__name__ == "ResourceExhaustedError":
                raise keras_tuner.errors.FailedTrialError(f"out of memory: {e}") from None
            raise
        if watch.diverged:
            raise keras_tuner.errors.FailedTrialError("loss became NaN/inf during proxy training")
        with averaged_weights(model):  # scored as tfsr-train saves it
            psnr = evaluate(KerasUpscaler(model, scale=spec.scale), self.val_pairs, spec.scale)["mean"]["psnr"]
            if not math.isfinite(psnr):
                raise keras_tuner.errors.FailedTrialError(f"validation PSNR is {psnr}")
            if self.score == "int8":
                return {"psnr": self._int8_psnr(model, spec, folder), "psnr_float": psnr}
        return {"psnr": psnr}

    def _int8_psnr(self, model, spec, folder):
        """Validation PSNR of the trial's int8 TFLite file (written beside its spec)."""
        from tfsr.export.tflite import int8_file_bytes, representative_patches, runtime_failure
        from tfsr.inference import TFLiteUpscaler

        if self._calibration is None:
            self._calibration = representative_patches(self.train_data, self.CALIBRATION_PATCHES)
        data = int8_file_bytes(model, spec, self._calibration, round_weights=True)
        failure = runtime_failure(data)
        if failure:  # a degenerate candidate (a dead layer), not a broken search
            raise keras_tuner.errors.FailedTrialError(f"its int8 file does not run: {failure}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "model_int8.tflite")
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        psnr = evaluate(TFLiteUpscaler(path), self.val_pairs, spec.scale)["mean"]["psnr"]
        if not math.isfinite(psnr):
            raise keras_tuner.errors.FailedTrialError(f"int8 validation PSNR is {psnr}")
        return psnr
