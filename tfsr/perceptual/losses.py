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

``scales`` adds the same distance on average-pooled copies of both images
(2 = halved): VGG16 up to relu2_2 sees 14x14 pixels, so a coarser copy is
how the loss reaches structure that deeper layers would see, without
weights tfsr does not have.  Every (scale, layer) term weighs the same.
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

    Use `PerceptualLoss.from_config(kind, lpips_weights, vgg19_weights, vgg16_weights, scales)`.
    `scales`: pooling factors the distance is also taken at (1 = the images as given).
    """

    def __init__(self, kind, model, scales=(1,)):
        self.kind, self.model, self.scales = kind, model, tuple(int(s) for s in scales)

    @classmethod
    def from_config(cls, kind, lpips_weights="", vgg19_weights="", vgg16_weights="", scales=(1,)):
        if isinstance(scales, int):  # an ml_collections override of one value
            scales = (scales,)
        if not scales or any(int(s) < 1 for s in scales):
            raise UserError(f"config.gan.perceptual_scales must be pooling factors >= 1, got {scales!r}")
        if kind == "vgg16":
            return cls("vgg16", vgg16.vgg16_features(vgg16.load_vgg16_weights(vgg16_weights)), scales)
        if kind == "lpips":
            arrays = lpips.load_lpips_weights(lpips_weights, flag="--config.gan.lpips_weights")
            if lpips.backbone_of(arrays) != "alex":
                raise UserError("--config.gan.lpips_weights: perceptual=lpips needs the AlexNet file")
            return cls("lpips", lpips.alexnet_features(arrays, name="perceptual_alexnet"), scales)
        if kind == "vgg19":
            return cls("vgg19", _vgg19_features(vgg19_weights), scales)
        raise UserError(f"config.gan.perceptual must be 'vgg16', 'lpips' or 'vgg19', got {kind!r}")

    def __call__(self, sr, hr):
        terms = []
        for s in self.scales:
            if s > 1:
                sr_s = keras.ops.average_pool(sr, s, s, padding="valid")
                hr_s = keras.ops.average_pool(hr, s, s, padding="valid")
            else:
                sr_s, hr_s = sr, hr
            terms += self._terms(sr_s, hr_s)
        return keras.ops.sum(keras.ops.stack(terms)) / len(terms)

    def _terms(self, sr, hr):
        """One distance per feature layer of `self.model`."""
        if self.kind in ("lpips", "vgg16"):
            fs = self.model(lpips.normalize_input(sr), training=False)
            fh = self.model(lpips.normalize_input(hr), training=False)
            return [
                keras.ops.mean(keras.ops.sum(keras.ops.square(lpips.unit_normalize(a) - lpips.unit_normalize(b)), -1))
                for a, b in zip(fs, fh)
            ]
        fs = self.model(_vgg_preprocess(sr), training=False)
        fh = self.model(_vgg_preprocess(hr), training=False)
        return [keras.ops.mean(keras.ops.abs(fs - fh))]


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
