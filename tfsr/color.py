"""BT.601 studio-swing YCbCr in numpy (MATLAB's `rgb2ycbcr`/`ycbcr2rgb`).

All arrays are float64 in the [0, 255] range of the uint8 images they come
from; gray (single-channel) images have no chroma and their "luma" is their
gray value, which is how SR evaluations treat them.
"""

import numpy as np

_RGB_TO_YCBCR = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]]
) / 255.0
_OFFSET = np.array([16.0, 128.0, 128.0])
Y_WEIGHTS = tuple(float(w) for w in _RGB_TO_YCBCR[0])  # RGB in [0, 1] -> Y - 16
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR)


def is_gray(image):
    """True for single-channel images (HW or HW1).

    An RGB file whose three channels happen to be equal is *not* gray: MATLAB
    reads it as RGB and converts it to studio-swing Y like any other.
    """
    image = np.asarray(image)
    return image.ndim == 2 or image.shape[-1] == 1


def rgb_to_ycbcr(rgb):
    return np.asarray(rgb, np.float64) @ _RGB_TO_YCBCR.T + _OFFSET


def ycbcr_to_rgb(ycbcr):
    return (np.asarray(ycbcr, np.float64) - _OFFSET) @ _YCBCR_TO_RGB.T


def luma(image):
    """Y of an RGB image, or the values of a gray one, float64 in [0, 255]."""
    image = np.asarray(image, np.float64)
    if image.ndim == 2:
        return image
    if image.shape[-1] == 1:
        return image[..., 0]
    if image.shape[-1] == 3:
        return rgb_to_ycbcr(image)[..., 0]
    raise ValueError(f"expected an RGB or gray image, got shape {image.shape}.")


def to_uint8(values):
    """Rounds and saturates to uint8."""
    return np.clip(np.round(values), 0, 255).astype(np.uint8)
