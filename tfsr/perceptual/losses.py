"""Perceptual loss: a feature distance on a frozen, pretrained backbone.

Three backbones, each loaded from a file the user names (never downloaded,
never random):

* ``vgg16`` (the default): ImageNet VGG16 up to relu2_2
  (`tfsr.perceptual.vgg16`), a network neither LPIPS metric uses.  The
  loss is the mean squared distance of channel-unit-normalized relu1_2 and
  relu2_2 features, weighted equally (the `lpips` kind's form, so the
  configured weights keep their scale).
* ``lpips``: the AlexNet of the LPIPS weights file.  The loss is the mean
  squared distance of channel-unit-normalized ReLU features, the five
  layers weighted equally.  It deliberately leaves out LPIPS' learned
  per-channel calibration (`lin{i}`), so the model is not trained on the
  exact metric it is later judged by (the backbone is still shared; the
  README says so beside the figures).
* ``vgg19``: Keras' VGG19 with ImageNet weights from an `.h5` file (as
  `keras.applications.VGG19(weights=path)` reads it); the loss is the L1
  distance of `block5_conv4` features, as in ESRGAN.
"""

import os

import keras
import numpy as np

from tfsr.errors import UserError
from tfsr.perceptual import lpips, vgg16

# Keras' VGG19 "caffe" preprocessing: BGR, minus the ImageNet means (0..255).
_VGG_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


class PerceptualLoss:
    """`loss(sr, hr)`: a scalar; float RGB batches in [0, 1].

    Use `PerceptualLoss.from_config(kind, lpips_weights, vgg19_weights, vgg16_weights)`.
    """

    def __init__(self, kind, model):
        self.kind, self.model = kind, model

    @classmethod
    def from_config(cls, kind, lpips_weights="", vgg19_weights="", vgg16_weights=""):
        if kind == "vgg16":
            return cls("vgg16", vgg16.vgg16_features(vgg16.load_vgg16_weights(vgg16_weights)))
        if kind == "lpips":
            arrays = lpips.load_lpips_weights(lpips_weights, flag="--config.gan.lpips_weights")
            if lpips.backbone_of(arrays) != "alex":
                raise UserError("--config.gan.lpips_weights: perceptual=lpips needs the AlexNet file")
            return cls("lpips", lpips.alexnet_features(arrays, name="perceptual_alexnet"))
        if kind == "vgg19":
            return cls("vgg19", _vgg19_features(vgg19_weights))
        raise UserError(f"config.gan.perceptual must be 'vgg16', 'lpips' or 'vgg19', got {kind!r}")

    def __call__(self, sr, hr):
        if self.kind in ("lpips", "vgg16"):
            fs = self.model(lpips.normalize_input(sr), training=False)
            fh = self.model(lpips.normalize_input(hr), training=False)
            terms = [
                keras.ops.mean(keras.ops.sum(keras.ops.square(lpips.unit_normalize(a) - lpips.unit_normalize(b)), -1))
                for a, b in zip(fs, fh)
            ]
            return keras.ops.sum(keras.ops.stack(terms)) / len(terms)
        fs = self.model(_vgg_preprocess(sr), training=False)
        fh = self.model(_vgg_preprocess(hr), training=False)
        return keras.ops.mean(keras.ops.abs(fs - fh))


def _vgg_preprocess(rgb):
    return keras.ops.flip(rgb * 255.0, axis=-1) - _VGG_MEAN_BGR


def _vgg19_features(path, layer="block5_conv4"):
    flag = "--config.gan.vgg19_weights"
    if not path:
        raise UserError(f"{flag} is required for perceptual=vgg19: a Keras VGG19 ImageNet .h5 (no top)")
    if not os.path.isfile(path):
        raise UserError(f"{flag}={path}: no such file")
    try:
        vgg = keras.applications.VGG19(include_top=False, weights=path, input_shape=(None, None, 3))
    except Exception as e:  # h5py/shape errors of a wrong file
        raise UserError(f"{flag}={path}: cannot load VGG19 weights ({type(e).__name__}: {e})") from None
    model = keras.Model(vgg.input, vgg.get_layer(layer).output, name="perceptual_vgg19")
    model.trainable = False
    return model
