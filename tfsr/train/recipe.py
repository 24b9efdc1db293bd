"""The training recipe: optimizer, learning-rate schedule, weight averaging, loss.

Everything here is chosen by `config.train` fields:

    learning_rate, schedule ("cosine" | "constant"), final_lr_fraction
    ema          0 (off) or the momentum of an exponential moving average
                 of the weights, e.g. 0.999: validation and the saved
                 model.keras use the averaged weights
    loss         "l1" | "charbonnier"

The pieces are registered Keras objects, so a checkpoint (model +
optimizer) reloads with its averages and its loss.
"""

import contextlib

import keras

from tfsr.errors import UserError

LOSSES = ("l1", "charbonnier")


def make_schedule(cfg):
    """The learning rate (a float or a schedule) for `cfg.steps` steps."""
    if cfg.schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(cfg.learning_rate, cfg.steps, alpha=cfg.final_lr_fraction)
    if cfg.schedule == "constant":
        return cfg.learning_rate
    raise UserError(f"train.schedule must be 'cosine' or 'constant', got {cfg.schedule!r}")


def make_optimizer(cfg):
    """Adam with `make_schedule(cfg)`; with `cfg.ema` > 0, an `AveragingAdam`."""
    ema = float(cfg.get("ema", 0.0))
    if not 0.0 <= ema < 1.0:
        raise UserError(f"train.ema must be 0 (off) or a momentum in (0, 1), got {ema!r}")
    if ema:
        return AveragingAdam(make_schedule(cfg), use_ema=True, ema_momentum=ema)
    return keras.optimizers.Adam(make_schedule(cfg))


def make_loss(cfg):
    name = cfg.get("loss", "l1")
    if name == "l1":
        return "mae"
    if name == "charbonnier":
        return Charbonnier()
    raise UserError(f"train.loss must be one of {LOSSES}, got {name!r}")


def follow_steps(optimizer, cfg):
    """Points a resumed optimizer's schedule at `cfg.steps`.

    A checkpoint stores the schedule it was made with; a run resumed with a
    changed `--steps` must decay over the new length, from the step it is at.
    """
    if cfg.schedule == "cosine":
        optimizer.learning_rate = make_schedule(cfg)


@keras.saving.register_keras_serializable(package="tfsr")
class AveragingAdam(keras.optimizers.Adam):
    """Adam keeping an exponential moving average of the weights.

    Two changes to Keras' `use_ema`:

    * the momentum warms up as `min(ema_momentum, (1 + t) / (10 + t))` (as
      `tf.train.ExponentialMovingAverage` with `num_updates` does), so a
      short run's average is not stuck near the initial weights;
    * `model.fit` does not copy the averages into the model when it
      returns (Keras' `finalize_variable_values`): the trainer calls `fit`
      once per checkpoint interval, and training goes on from the raw
      weights.  `averaged_weights(model)` swaps them in where wanted.
    """

    def _update_model_variables_moving_average(self, trainable_variables):
        t = keras.ops.cast(self.iterations, "float32")
        momentum = keras.ops.minimum(self.ema_momentum, (1.0 + t) / (10.0 + t))
        for var, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is not None:
                average.assign(momentum * average + (1.0 - momentum) * var)

    def finalize_variable_values(self, var_list):
        pass


@contextlib.contextmanager
def averaged_weights(model):
    """Within the block, `model` holds its optimizer's averaged weights (if any)."""
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, AveragingAdam) or not optimizer.built:
        yield model
        return
    raw = [v.numpy() if hasattr(v, "numpy") else keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    for var in model.trainable_variables:
        average = optimizer._model_variables_moving_average[optimizer._get_variable_index(var)]
        var.assign(average)
    try:
        yield model
    finally:
        for var, value in zip(model.trainable_variables, raw):
            var.assign(value)


@keras.saving.register_keras_serializable(package="tfsr")
class Charbonnier(keras.losses.Loss):
    """`mean(sqrt((y - p)^2 + eps^2))`: L1 with a smooth minimum (LapSRN, ECBSR)."""

    def __init__(self, epsilon=1e-3, name="charbonnier", **kwargs):
        super().__init__(name=name, **kwargs)
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        diff = keras.ops.convert_to_tensor(y_pred) - keras.ops.cast(y_true, y_pred.dtype)
        return keras.ops.mean(keras.ops.sqrt(diff * diff + self.epsilon**2), axis=(1, 2, 3))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
