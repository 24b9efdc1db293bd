"""MATLAB-compatible bicubic resize (`imresize(..., 'bicubic')`) in TensorFlow.

Published super-resolution tables are computed on low-resolution images made
with MATLAB's `imresize`, which differs from every other bicubic resize
(antialiasing when downscaling, mirror padding, per-dimension rounding for
uint8 images).  Reproducing it exactly is what makes our PSNR figures
comparable with those tables.

How MATLAB does it, and so how we do it:

* Each dimension is resized separately by a matrix of weights
  (`out_len x in_len`).  When downscaling by a factor `s < 1` the cubic
  kernel is stretched to `h(x) = s * cubic(s * x)` (width `4 / s`), which is
  the antialiasing.
* Out-of-range taps are mirrored (`[1..n, n..1]` symmetric padding).
* Height (dimension 1) is resized first, then width.  For uint8 input the
  intermediate result is rounded and saturated to uint8 after each pass.

Everything here is plain TensorFlow so it runs inside `tf.data` on images of
dynamic size.
"""

import math

import tensorflow as tf


def _cubic(x):
    """Keys' cubic convolution kernel with a = -0.5, as MATLAB uses."""
    absx = tf.abs(x)
    absx2 = absx * absx
    absx3 = absx2 * absx
    near = tf.cast(absx <= 1.0, x.dtype)
    far = tf.cast((absx > 1.0) & (absx <= 2.0), x.dtype)
    return (1.5 * absx3 - 2.5 * absx2 + 1.0) * near + (
        -0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0
    ) * far


def resize_matrix(in_len, out_len, scale):
    """The `(out_len, in_len)` float64 weight matrix of one resize pass.

    Args:
        in_len: input length (int or scalar int tensor).
        out_len: output length (int or scalar int tensor).
        scale: the scale factor `out / in` as a Python float; MATLAB uses the
            requested factor, not the ratio of rounded lengths.
    """
    dtype = tf.float64
    kernel_width = 4.0
    antialias = scale < 1.0
    if antialias:
        kernel_width = kernel_width / scale
    x = tf.range(1, tf.cast(out_len, tf.int32) + 1, dtype=dtype)
    # Position in input space of each output sample (1-based, MATLAB style).
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = tf.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + tf.range(taps, dtype=dtype)[None, :]
    distance = u[:, None] - indices
    if antialias:
        weights = scale * _cubic(distance * scale)
    else:
        weights = _cubic(distance)
    weights = weights / tf.reduce_sum(weights, axis=1, keepdims=True)
    # Mirror out-of-range indices: MATLAB's aux = [1:n, n:-1:1].
    n = tf.cast(in_len, tf.int64)
    idx = tf.cast(indices, tf.int64) - 1
    period = 2 * n
    idx = tf.math.floormod(idx, period)
    idx = tf.where(idx >= n, period - 1 - idx, idx)
    one_hot = tf.one_hot(idx, tf.cast(n, tf.int32), dtype=dtype)
    return tf.einsum("op,opi->oi", weights, one_hot)


def _output_length(in_len, scale):
    return tf.cast(tf.math.ceil(tf.cast(in_len, tf.float64) * scale), tf.int32)


def imresize(image, scale=None, output_shape=None):
    """Resizes an HWC (or HW) image like MATLAB's `imresize(img, s, 'bicubic')`.

    Args:
        image: uint8 or float tensor/array of shape `(H, W, C)` or `(H, W)`.
        scale: a single scale factor for both dimensions (e.g. 0.5 or 2).
        output_shape: `(out_h, out_w)`; used instead of `scale` when given.
            Exactly one of `scale` and `output_shape` must be set.

    Returns:
        The resized image with the dtype of the input.  uint8 results are
        rounded and saturated after each pass as MATLAB does; float results
        are neither rounded nor clipped.
    """
    if (scale is None) == (output_shape is None):
        raise ValueError("imresize: give exactly one of `scale` and `output_shape`.")
    image = tf.convert_to_tensor(image)
    in_dtype = image.dtype
    squeeze = image.shape.rank == 2
    if squeeze:
        image = image[:, :, None]
    if image.shape.rank != 3:
        raise ValueError(f"imresize: expected an HWC or HW image, got shape {image.shape}.")
    in_h, in_w = tf.shape(image)[0], tf.shape(image)[1]
    if output_shape is not None:
        out_h, out_w = int(output_shape[0]), int(output_shape[1])
        # MATLAB derives the scale of each dimension from the requested size.
        scale_h = out_h / float(image.shape[0]) if image.shape[0] else None
        scale_w = out_w / float(image.shape[1]) if image.shape[1] else None
        if scale_h is None or scale_w is None:
            raise ValueError("imresize: output_shape needs an input of static size.")
    else:
        if scale <= 0:
            raise ValueError(f"imresize: scale must be positive, got {scale}.")
        scale_h = scale_w = float(scale)
        out_h, out_w = _output_length(in_h, scale_h), _output_length(in_w, scale_w)

    is_uint8 = in_dtype == tf.uint8
    x = tf.cast(image, tf.float64)
    # MATLAB resizes the dimension with the smaller scale first; ties: rows.
    passes = [(0, scale_h, out_h), (1, scale_w, out_w)]
    if scale_w < scale_h:
        passes.reverse()
    for axis, s, out_len in passes:
        in_len = tf.shape(x)[axis]
        weights = resize_matrix(in_len, out_len, s)
        if axis == 0:
            x = tf.einsum("oh,hwc->owc", weights, x)
        else:
            x = tf.einsum("ow,hwc->hoc", weights, x)
        if is_uint8:
            # MATLAB converts back to uint8 after each pass (round half away
            # from zero, which for non-negative values is floor(x + 0.5)).
            x = tf.clip_by_value(tf.floor(x + 0.5), 0.0, 255.0)
    result = tf.cast(x, in_dtype)
    if squeeze:
        result = result[:, :, 0]
    return result
