import glob

import numpy as np
import pytest
import tensorflow as tf

from conftest import needs_shared_data, shared
from tfsr.data.images import load_image
from tfsr.data.imresize import imresize, resize_matrix


@needs_shared_data
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_reproduces_matlab_lr_images(scale):
    """Our resize of each HR benchmark image reproduces MATLAB's LR image."""
    total = identical = off_by_more = 0
    files = sorted(glob.glob(shared("val", "*", f"x{scale}", "*_HR.png")))
    assert len(files) == 19
    for hr_path in files:
        hr = load_image(hr_path)
        lr = load_image(hr_path.replace("_HR", "_LR"))
        mine = imresize(hr, scale=1 / scale).numpy()
        assert mine.shape == lr.shape and mine.dtype == np.uint8
        diff = np.abs(mine[3:-3, 3:-3].astype(int) - lr[3:-3, 3:-3].astype(int))
        total += diff.size
        identical += (diff == 0).sum()
        off_by_more += (diff > 1).sum()
    assert identical / total >= 0.995
    assert off_by_more / total < 1e-4


def test_weights_are_normalised_and_mirror_at_borders():
    w = resize_matrix(10, 5, 0.5).numpy()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    # Antialiased x1/2: each output pixel spreads over ~8 input taps.
    assert (np.abs(w[2]) > 1e-9).sum() >= 6
    up = resize_matrix(4, 8, 2.0).numpy()
    np.testing.assert_allclose(up.sum(axis=1), 1.0, atol=1e-12)


def test_constant_image_stays_constant_and_shapes_follow_scale():
    image = np.full((30, 21, 3), 77, np.uint8)
    assert np.all(imresize(image, scale=0.5).numpy() == 77)
    assert imresize(image, scale=0.5).shape == (15, 11, 3)
    assert imresize(image, scale=3).shape == (90, 63, 3)
    assert imresize(image, output_shape=(10, 7)).shape == (10, 7, 3)
    gray = np.full((12, 12), 0.25, np.float32)
    out = imresize(gray, scale=2)
    assert out.dtype == tf.float32 and out.shape == (24, 24)
    np.testing.assert_allclose(out.numpy(), 0.25, atol=1e-6)


def test_float_input_is_neither_rounded_nor_clipped():
    step = np.zeros((8, 8), np.float32)
    step[:, 4:] = 1.0
    out = imresize(step, scale=2).numpy()
    # Bicubic rings at an edge: a float result keeps the overshoot.
    assert out.max() > 1.0 and out.min() < 0.0
    as_uint8 = imresize((step * 255).astype(np.uint8), scale=2).numpy()
    assert as_uint8.max() == 255 and as_uint8.min() == 0


def test_runs_inside_tf_function_on_dynamic_sizes():
    fn = tf.function(lambda x: imresize(x, scale=0.5), input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    assert fn(tf.zeros((40, 24, 3), tf.uint8)).shape == (20, 12, 3)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4)), scale=2, output_shape=(8, 8))
    with pytest.raises(ValueError):
        imresize(np.zeros((4, 4)), scale=-1)
