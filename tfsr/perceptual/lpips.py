"""LPIPS v0.1 ("net-lin", AlexNet or SqueezeNet backbone) in Keras, from a weights file.

Zhang et al., "The Unreasonable Effectiveness of Deep Features as a
Perceptual Metric" (CVPR 2018).  The computation, step by step:

1. both images RGB in [-1, 1], then per channel `(x - SHIFT) / SCALE`;
2. the backbone's features: AlexNet's five ReLU outputs, or SqueezeNet
   1.1's seven layers (`tfsr.perceptual.squeezenet`);
3. per layer: unit-normalize each spatial feature vector over channels,
   square the difference of the two images' vectors, weight the channels by
   the learned `lin{i}` and sum them, average over space;
4. sum the layers.  0 for identical images; lower is better.

The weights come from a file the user names (the LPIPS authors' AlexNet or
SqueezeNet and v0.1 linear layers as an `.npz`, see
`../shared/weights/README.md`; the backbone is read from the file); tfsr
never downloads them and never substitutes random weights for a missing
file.  Only `keras.layers`/`keras.ops` are used, so LPIPS also serves as a
training loss under every Keras backend.
"""

import os

import keras
import numpy as np

from tfsr.errors import UserError
from tfsr.perceptual import squeezenet

NAMES = {"alex": "AlexNet", "squeeze": "SqueezeNet"}
METRIC_NAMES = {"alex": "lpips", "squeeze": "lpips_squeeze"}  # the metric's column / key
SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
SCALE = np.array([0.458, 0.448, 0.450], np.float32)

# (name, kernel, stride, padding, filters); a max-pool 3x3/2 follows conv1 and conv2.
ALEXNET = (
    ("conv1", 11, 4, 2, 64),
    ("conv2", 5, 1, 2, 192),
    ("conv3", 3, 1, 1, 384),
    ("conv4", 3, 1, 1, 256),
    ("conv5", 3, 1, 1, 256),
)
_POOL_AFTER = ("conv1", "conv2")


def expected_shapes(backbone="alex"):
    """`{array name: shape}` of a valid LPIPS weights file of `backbone`."""
    if backbone == "squeeze":
        return squeezenet.expected_shapes()
    shapes, cin = {}, 3
    for name, k, _, _, filters in ALEXNET:
        shapes[f"{name}_kernel"] = (k, k, cin, filters)
        shapes[f"{name}_bias"] = (filters,)
        cin = filters
    for i, (_, _, _, _, filters) in enumerate(ALEXNET):
        shapes[f"lin{i}"] = (filters,)
    return shapes


def backbone_of(arrays):
    """"squeeze" for a SqueezeNet weights file, else "alex"."""
    return "squeeze" if "fire2_squeeze_kernel" in arrays else "alex"


def read_weights_npz(path, flag, required, what):
    """The float32 arrays of the `.npz` at `path`, or a one-line `UserError`:
    `required` when no path is given, "no such file", or "not `what`" when
    the file cannot be read as an npz.  `flag` names the option in errors."""
    if not path:
        raise UserError(required)
    if not os.path.isfile(path):
        raise UserError(f"{flag}={path}: no such file")
    try:
        with np.load(path) as data:
            return {k: np.asarray(data[k], np.float32) for k in data.files}
    except Exception as e:  # zip/pickle errors of a file that is not an npz
        raise UserError(f"{flag}={path}: not {what} (cannot read it as one: {type(e).__name__})") from None


def load_lpips_weights(path, flag="--lpips_weights"):
    """Reads and checks an LPIPS `.npz` (AlexNet or SqueezeNet); `flag` names the option in errors."""
    required = f"{flag} is required: the LPIPS AlexNet weights (.npz), e.g. ../shared/weights/lpips_alex_v0.1.npz"
    arrays = read_weights_npz(path, flag, required, "an LPIPS weights .npz")
    backbone = backbone_of(arrays)
    for name, shape in expected_shapes(backbone).items():
        if name not in arrays:
            raise UserError(f"{flag}={path}: missing array {name!r}; not an LPIPS {NAMES[backbone]} weights file")
        if arrays[name].shape != shape:
            raise UserError(f"{flag}={path}: {name} has shape {arrays[name].shape}, expected {shape}")
    return arrays


def random_lpips_weights(path, seed=0, backbone="alex"):
    """Writes a correctly shaped LPIPS `.npz` of `backbone` with random weights (for tests)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in expected_shapes(backbone).items():
        if name.startswith("lin"):
            arrays[name] = rng.uniform(0.0, 0.2, shape).astype(np.float32)
        elif name.endswith("_bias"):
            arrays[name] = rng.normal(0.0, 0.01, shape).astype(np.float32)
        else:
            fan_in = shape[0] * shape[1] * shape[2]
            arrays[name] = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype(np.float32)
    np.savez(path, **arrays)
    return path


def alexnet_features(arrays, name="lpips_alexnet"):
    """A Keras model: normalized RGB `(n, h, w, 3)` -> the five ReLU outputs.

    Frozen: its weights never train.  Inputs must be at least 32 pixels on
    a side (conv1 and two pools shrink a 31-pixel image to nothing).
    """
    x = inputs = keras.Input((None, None, 3), name="rgb")
    outputs = []
    for conv_name, k, stride, pad, filters in ALEXNET:
        x = keras.layers.ZeroPadding2D(pad, name=f"{conv_name}_pad")(x)
        conv = keras.layers.Conv2D(filters, k, strides=stride, activation="relu", name=conv_name)
        x = conv(x)
        conv.set_weights([arrays[f"{conv_name}_kernel"], arrays[f"{conv_name}_bias"]])
        outputs.append(x)
        if conv_name in _POOL_AFTER:
            x = keras.layers.MaxPooling2D(3, strides=2, name=f"{conv_name}_pool")(x)
    model = keras.Model(inputs, outputs, name=name)
    model.trainable = False
    return model


def normalize_input(images):
    """Float RGB in [0, 1] -> the backbone's input normalization."""
    return (images * 2.0 - 1.0 - SHIFT) / SCALE


def unit_normalize(features):
    norm = keras.ops.sqrt(keras.ops.sum(features * features, axis=-1, keepdims=True))
    return features / (norm + 1e-10)


class LPIPS:
    """The LPIPS distance; `LPIPS.load(path)` reads the weights file.

    `distance(x, y)` takes float RGB batches in [0, 1] `(n, h, w, 3)` and
    returns `(n,)` distances as a backend tensor (differentiable);
    `score(sr, hr)` takes two uint8 images and returns a float, the form
    `tfsr.evaluation.evaluate`'s `extra_metrics` expects.
    """

    def __init__(self, arrays):
        self.backbone = backbone_of(arrays)
        if self.backbone == "squeeze":
            self.features, layers = squeezenet.squeezenet_features(arrays), len(squeezenet.LAYER_CHANNELS)
        else:
            self.features, layers = alexnet_features(arrays), len(ALEXNET)
        self.lin = [keras.ops.convert_to_tensor(arrays[f"lin{i}"]) for i in range(layers)]
        self.metric_name = METRIC_NAMES[self.backbone]

    @classmethod
    def load(cls, path, flag="--lpips_weights"):
        return cls(load_lpips_weights(path, flag))

    def distance(self, x, y):
        fx = self.features(normalize_input(x), training=False)
        fy = self.features(normalize_input(y), training=False)
        total = 0.0
        for a, b, w in zip(fx, fy, self.lin):
            diff = keras.ops.square(unit_normalize(a) - unit_normalize(b))
            total = total + keras.ops.mean(keras.ops.sum(diff * w, axis=-1), axis=(1, 2))
        return total

    def score(self, sr, hr):
        """LPIPS of two uint8 images (RGB, or gray repeated to RGB)."""

        def batch(image):
            image = np.asarray(image, np.float32) / 255.0
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=-1)
            return image[None]

        return float(np.asarray(self.distance(batch(sr), batch(hr)))[0])
