"""BT.601 luma in TensorFlow, matching `tfsr.metrics.to_y`."""

import tensorflow as tf

from tfsr.color import Y_WEIGHTS


def rgb_to_y(image):
    """`(..., 3)` RGB in [0, 1] -> `(..., 1)` studio-swing Y in [16/255, 235/255]."""
    weights = tf.constant(Y_WEIGHTS, dtype=image.dtype)
    return 16.0 / 255.0 + tf.reduce_sum(image * weights, axis=-1, keepdims=True)
