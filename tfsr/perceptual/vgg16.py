"""The first two stages of ImageNet VGG16, up to relu2_2, from a weights
file: the content network of Johnson et al.'s perceptual loss, and one the
LPIPS-alex and LPIPS-squeeze metrics do not use.

    conv1_1 ─ relu ─ conv1_2 ─ relu (relu1_2) ─ maxpool 2/2 ─ conv2_1 ─ relu ─ conv2_2 ─ relu (relu2_2)

3x3 convs with 'same' padding; input RGB in [-1, 1], normalized per
channel like LPIPS' (`tfsr.perceptual.lpips.normalize_input`), which equals
torchvision's ImageNet mean/std normalization.  The file
(`../shared/weights/vgg16_relu2_2.npz`) holds `conv{1_1,1_2,2_1,2_2}_kernel`
(HWIO) and `_bias`.
"""

import keras
import numpy as np

from tfsr.errors import UserError
from tfsr.perceptual.lpips import read_weights_npz

LAYERS = (("conv1_1", 3, 64), ("conv1_2", 64, 64), ("conv2_1", 64, 128), ("conv2_2", 128, 128))


def expected_shapes():
    shapes = {}
    for name, cin, filters in LAYERS:
        shapes[f"{name}_kernel"] = (3, 3, cin, filters)
        shapes[f"{name}_bias"] = (filters,)
    return shapes


def load_vgg16_weights(path, flag="--config.gan.vgg16_weights"):
    """Reads and checks the `.npz`; a missing or malformed file is a one-line `UserError`."""
    required = f"{flag} is required for perceptual=vgg16: e.g. ../shared/weights/vgg16_relu2_2.npz"
    arrays = read_weights_npz(path, flag, required, "a VGG16 weights .npz")
    for name, shape in expected_shapes().items():
        if arrays.get(name, np.zeros(0)).shape != shape:
            raise UserError(f"{flag}={path}: {name} missing or not of shape {shape}; not a VGG16 relu2_2 file")
    return arrays


def random_vgg16_weights(path, seed=0):
    """Writes a correctly shaped file with random weights (for tests)."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in expected_shapes().items():
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        arrays[name] = rng.normal(0, np.sqrt(2.0 / fan_in) if len(shape) > 1 else 0.01, shape).astype(np.float32)
    np.savez(path, **arrays)
    return path


def vgg16_features(arrays, name="perceptual_vgg16"):
    """A frozen Keras model: normalized RGB -> [relu1_2, relu2_2]."""
    x = inputs = keras.Input((None, None, 3), name="rgb")
    outputs = []
    for layer_name, _, filters in LAYERS:
        if layer_name == "conv2_1":
            x = keras.layers.MaxPooling2D(2, name="pool1")(x)
        conv = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=layer_name)
        x = conv(x)
        conv.set_weights([arrays[f"{layer_name}_kernel"], arrays[f"{layer_name}_bias"]])
        if layer_name in ("conv1_2", "conv2_2"):
            outputs.append(x)
    model = keras.Model(inputs, outputs, name=name)
    model.trainable = False
    return model
