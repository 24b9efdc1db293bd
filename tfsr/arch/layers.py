"""Custom Keras layers of tfsr generators, registered for serialization.

Only `keras.ops` is used, so the layers run under every Keras backend (the
GPU machine trains with JAX) and saved `.keras` files reload under
TensorFlow.  No Python lambdas: TFMOT cannot clone `Lambda` layers.
"""

import keras


@keras.saving.register_keras_serializable(package="tfsr")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel shuffle: `(H, W, C * b^2) -> (H * b, W * b, C)`."""

    def __init__(self, block_size, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, inputs):
        return keras.ops.depth_to_space(inputs, self.block_size)

    def compute_output_shape(self, input_shape):
        b = self.block_size
        n, h, w, c = input_shape
        return (n, None if h is None else h * b, None if w is None else w * b, c // (b * b))

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@keras.saving.register_keras_serializable(package="tfsr")
class ChannelSplit(keras.layers.Layer):
    """Splits the channels into `groups` equal parts (a list of tensors)."""

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        self.groups = int(groups)

    def call(self, inputs):
        return keras.ops.split(inputs, self.groups, axis=-1)

    def compute_output_shape(self, input_shape):
        *rest, c = input_shape
        return [(*rest, c // self.groups)] * self.groups

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package="tfsr")
class ResizeLike(keras.layers.Layer):
    """Resizes `x` to the height and width of `reference`: call on `[x, reference]`."""

    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.interpolation = interpolation

    def call(self, inputs):
        x, reference = inputs
        shape = keras.ops.shape(reference)
        return keras.ops.image.resize(x, (shape[1], shape[2]), interpolation=self.interpolation)

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], reference[1], reference[2], x[3])

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}
