"""A generator as a SavedModel for TF Serving, whole pipeline included.

Layout (what `tensorflow_model_server --model_base_path=DIR/NAME` expects):

    DIR/NAME/VERSION/saved_model.pb, variables/

Signatures:
    serving_default   images: uint8 (batch, H, W, 3) RGB, any size (the
                      signature leaves the rank open and checks it itself)
                      -> images: uint8 (batch, H*s, W*s, 3)
    upscale_png       image_bytes: string (batch,) encoded PNG/JPEG/BMP/GIF
                      -> png_bytes: string (batch,) PNG
                      (TF Serving's REST API carries both as {"b64": ...}
                      because the names end in `_bytes`)

Y-channel generators get the same treatment as `tfsr.inference`: Y goes
through the network, chroma is upscaled bicubically.  A request that is
not an image fails with TensorFlow's own message (`Unknown image file
format ...`) and the server keeps serving; wrong dtypes or ranks are
refused by the signature before anything runs.

Requests are bounded: one whose LR pixels (batch x H x W, or one decoded
image) exceed `max_pixels` (the `max_pixels` variable; `tfsr-export
--max_pixels`) is refused with a message saying so, before the network
runs; without a bound a 4000x4000 request took 40 s and grew the server by
10 GB.  Larger images are tiled by the client (`tfsr-upscale` does).  An
empty batch returns an empty batch; an image with no pixels is refused.
"""

import os

import numpy as np
import tensorflow as tf

from tfsr.color import _OFFSET, _RGB_TO_YCBCR, _YCBCR_TO_RGB

# LR pixels per request (batch x H x W): a 1920x1080 frame fits.
DEFAULT_MAX_PIXELS = 1 << 21


def _round_uint8(x):
    return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)


class SRServingModule(tf.Module):
    """Wraps a (tf_keras) generator with uint8/PNG signatures."""

    def __init__(self, keras_model, scale, channels, max_pixels=DEFAULT_MAX_PIXELS):
        super().__init__(name="tfsr_sr")
        self.model = keras_model
        self.scale = tf.Variable(int(scale), trainable=False, dtype=tf.int32, name="scale")
        self.max_pixels = tf.Variable(int(max_pixels), trainable=False, dtype=tf.int64, name="max_pixels")
        self._scale, self._channels = int(scale), int(channels)
        self._to_ycbcr = tf.constant(_RGB_TO_YCBCR.T, tf.float32)
        self._from_ycbcr = tf.constant(_YCBCR_TO_RGB.T, tf.float32)
        self._offset = tf.constant(_OFFSET, tf.float32)

    def _upscale(self, images):
        rgb = tf.cast(images, tf.float32)  # [0, 255]
        if self._channels == 3:
            return _round_uint8(self.model(rgb / 255.0, training=False) * 255.0)
        ycbcr = tf.tensordot(rgb, self._to_ycbcr, 1) + self._offset
        y = self.model(ycbcr[..., :1] / 255.0, training=False) * 255.0
        y = tf.cast(_round_uint8(y), tf.float32)
        size = tf.shape(rgb)[1:3] * self._scale
        bicubic = tf.cast(_round_uint8(tf.image.resize(rgb, size, method="bicubic")), tf.float32)
        chroma = (tf.tensordot(bicubic, self._to_ycbcr, 1) + self._offset)[..., 1:]
        out = tf.tensordot(tf.concat([y, chroma], -1) - self._offset, self._from_ycbcr, 1)
        return _round_uint8(out)

    # The signature leaves the rank open: a declared shape is not enforced
    # when a signature is called (and checks of it are folded away), so
    # ensure_shape checks it at run time and a bad request reads
    # "Shape of tensor images [20,24,3] is not compatible with expected
    # shape [?,?,?,3]" instead of failing deep inside the network.
    def _bounded(self, images):
        """`images` (batch, H, W, 3) after the size checks (graph assertions)."""
        shape = tf.shape(images, out_type=tf.int64)
        checks = [
            tf.debugging.assert_positive(shape[1:3], message="each image needs at least 1x1 pixels"),
            tf.debugging.assert_less_equal(
                shape[0] * shape[1] * shape[2], self.max_pixels,
                message="request too large: batch x height x width exceeds this model's max_pixels; "
                        "send smaller images or tiles, or re-export with tfsr-export --max_pixels",
            ),
        ]  # fmt: skip
        with tf.control_dependencies(checks):
            return tf.identity(images)

    @tf.function(input_signature=[tf.TensorSpec(None, tf.uint8, name="images")])
    def serving_default(self, images):
        images = tf.ensure_shape(images, [None, None, None, 3])
        shape = tf.shape(images)
        empty = tf.zeros([0, shape[1] * self._scale, shape[2] * self._scale, 3], tf.uint8)
        # An empty batch has nothing to upscale: answer in kind (the network
        # itself cannot run on zero images).
        out = tf.cond(shape[0] > 0, lambda: self._upscale(self._bounded(images)), lambda: empty)
        return {"images": out}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
    def upscale_png(self, image_bytes):
        def one(data):
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            image = tf.ensure_shape(image, [None, None, 3])
            return tf.io.encode_png(self._upscale(self._bounded(image[None]))[0])

        return {"png_bytes": tf.map_fn(one, image_bytes, fn_output_signature=tf.string)}


def export_savedmodel(keras_model, spec, out_dir, model_name, version=1, max_pixels=DEFAULT_MAX_PIXELS):
    """Writes `out_dir/model_name/version/`; returns that path.  A request
    of more than `max_pixels` LR pixels is refused (see the module doc).

    The network inside is the `tf_keras` rebuild of `spec` with the trained
    weights (equal to the Keras 3 model, tested): Keras 3's bilinear
    `UpSampling2D` cannot be traced with unknown height and width, which a
    serving signature for any image size needs.
    """
    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights

    path = os.path.join(out_dir, model_name, str(int(version)))
    module = SRServingModule(copy_weights(keras_model, build_tfkeras_model(spec)), spec.scale, spec.channels,
                             max_pixels)  # fmt: skip
    probe = np.zeros((1, 4, 4, 3), np.uint8)
    module.serving_default(probe)  # trace once: errors surface here, not in serving
    tmp = path + ".tmp"
    tf.saved_model.save(
        module,
        tmp,
        signatures={
            "serving_default": module.serving_default.get_concrete_function(),
            "upscale_png": module.upscale_png.get_concrete_function(),
        },
    )
    if os.path.exists(path):
        import shutil

        shutil.rmtree(path)
    os.replace(tmp, path)  # TF Serving never sees a half-written version
    return path
