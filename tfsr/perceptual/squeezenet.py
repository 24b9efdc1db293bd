"""SqueezeNet 1.1 features for LPIPS-squeeze (torchvision's ImageNet
network, as the LPIPS authors slice it), from a weights file.

    conv1 3x3/2 (no padding) ─ relu ─────────────────────────── layer 0
    maxpool 3/2 ─ fire2 ─ fire3 ──────────────────────────────── layer 1
    maxpool 3/2 ─ fire4 ─ fire5 ──────────────────────────────── layer 2
    maxpool 3/2 ─ fire6 ─ layer 3 ─ fire7 ─ layer 4 ─ fire8 ─ layer 5 ─ fire9 ─ layer 6

A fire module is ReLU(1x1 squeeze), then the channel concatenation of
ReLU(1x1 expand) and ReLU(3x3 expand, padding 1).  torchvision pools with
`ceil_mode=True`: a last, partial window is kept.  The pooled inputs are
ReLU outputs (>= 0), so zero-padding the bottom and right edge by one pixel
before a 'valid' pool gives exactly those windows' maxima.
"""

import keras

# (fire module, squeeze, expand channels each); conv1 has 64 filters.
FIRES = ((2, 16, 64), (3, 16, 64), (4, 32, 128), (5, 32, 128), (6, 48, 192), (7, 48, 192), (8, 64, 256), (9, 64, 256))
POOL_BEFORE = (2, 4, 6)  # a max-pool precedes these fire modules
LAYER_AFTER = (3, 5, 6, 7, 8, 9)  # feature layers 1..6 end after these fire modules (layer 0: relu1)
LAYER_CHANNELS = (64, 128, 256, 384, 384, 512, 512)


def expected_shapes():
    """`{array name: shape}` of a valid LPIPS SqueezeNet weights file."""
    shapes = {"conv1_kernel": (3, 3, 3, 64), "conv1_bias": (64,)}
    cin = 64
    for n, squeeze, expand in FIRES:
        shapes.update({
            f"fire{n}_squeeze_kernel": (1, 1, cin, squeeze), f"fire{n}_squeeze_bias": (squeeze,),
            f"fire{n}_expand1x1_kernel": (1, 1, squeeze, expand), f"fire{n}_expand1x1_bias": (expand,),
            f"fire{n}_expand3x3_kernel": (3, 3, squeeze, expand), f"fire{n}_expand3x3_bias": (expand,),
        })  # fmt: skip
        cin = 2 * expand
    shapes.update({f"lin{i}": (c,) for i, c in enumerate(LAYER_CHANNELS)})
    return shapes


def _conv(arrays, name, x, filters, kernel, strides=1, padding="valid"):
    conv = keras.layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu", name=name)
    y = conv(x)
    conv.set_weights([arrays[f"{name}_kernel"], arrays[f"{name}_bias"]])
    return y


def _ceil_pool(x, name):
    """torchvision's MaxPool2d(3, 2, ceil_mode=True) on non-negative inputs."""
    x = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"{name}_ceil_pad")(x)
    return keras.layers.MaxPooling2D(3, strides=2, name=name)(x)


def squeezenet_features(arrays, name="lpips_squeezenet"):
    """A frozen Keras model: normalized RGB `(n, h, w, 3)` -> the seven LPIPS feature layers."""
    inputs = keras.Input((None, None, 3), name="rgb")
    x = _conv(arrays, "conv1", inputs, 64, 3, strides=2)
    outputs = [x]
    for n, squeeze, expand in FIRES:
        if n in POOL_BEFORE:
            x = _ceil_pool(x, f"pool_before_fire{n}")
        s = _conv(arrays, f"fire{n}_squeeze", x, squeeze, 1)
        x = keras.layers.Concatenate(name=f"fire{n}")(
            [_conv(arrays, f"fire{n}_expand1x1", s, expand, 1), _conv(arrays, f"fire{n}_expand3x3", s, expand, 3,
                                                                       padding="same")])  # fmt: skip
        if n in LAYER_AFTER:
            outputs.append(x)
    model = keras.Model(inputs, outputs, name=name)
    model.trainable = False
    return model
