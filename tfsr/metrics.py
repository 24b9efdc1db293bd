"""PSNR and SSIM computed the way super-resolution papers report them.

The convention behind published tables (the MATLAB evaluation scripts of
SRCNN/VDSR/EDSR and their successors):

* RGB images are scored on the Y channel of BT.601 studio-swing YCbCr
  (`Y = 16 + (65.481 R + 128.553 G + 24.966 B)`, RGB in [0, 1]), computed in
  floating point.
* Grayscale images are scored on their gray values directly (MATLAB's
  `rgb2ycbcr` is never applied to them).
* A border of `scale` pixels is cropped from every side.
* SSIM uses an 11x11 Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03,
  L = 255 and only "valid" window positions.

All functions take uint8 or float arrays in [0, 255], HWC or HW.  A 2-D
array is taken as already being the channel to score (gray or Y).
"""

import numpy as np

from tfsr.color import is_gray, luma


def _as_gray(image):
    image = np.asarray(image, np.float64)
    if image.ndim == 2:
        return image
    if image.shape[-1] == 1:
        return image[..., 0]
    # A model that outputs RGB for a gray reference: score its mean.
    return image.mean(-1)


def _prepare(sr, hr, border):
    sr, hr = np.asarray(sr), np.asarray(hr)
    if sr.shape[:2] != hr.shape[:2]:
        raise ValueError(f"image sizes differ: {sr.shape[:2]} vs {hr.shape[:2]}.")
    if is_gray(hr):
        # Gray images are scored on their gray values, as MATLAB does.
        sr_y, hr_y = _as_gray(sr), _as_gray(hr)
    else:
        sr_y, hr_y = luma(sr), luma(hr)
    if border:
        sr_y = sr_y[border:-border, border:-border]
        hr_y = hr_y[border:-border, border:-border]
    return sr_y, hr_y


def psnr(sr, hr, border=0):
    """Y-channel PSNR in dB between a super-resolved and a reference image."""
    sr_y, hr_y = _prepare(sr, hr, border)
    mse = np.mean((sr_y - hr_y) ** 2)
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(255.0**2 / mse))


def _gaussian_window(size=11, sigma=1.5):
    ax = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(ax**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(image, window):
    """Separable 'valid' correlation of a 2-D image with a 1-D window."""
    k = len(window)
    rows = np.lib.stride_tricks.sliding_window_view(image, k, axis=0) @ window
    return np.lib.stride_tricks.sliding_window_view(rows, k, axis=1) @ window


def ssim(sr, hr, border=0):
    """Y-channel SSIM (Wang et al. 2004, Gaussian 11x11 window, sigma 1.5)."""
    x, y = _prepare(sr, hr, border)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    w = _gaussian_window()
    mu_x, mu_y = _filter_valid(x, w), _filter_valid(y, w)
    sigma_x = _filter_valid(x * x, w) - mu_x**2
    sigma_y = _filter_valid(y * y, w) - mu_y**2
    sigma_xy = _filter_valid(x * y, w) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
    )
    return float(ssim_map.mean())


def _grid_peak_db(y, period):
    """Power at the `period`-pixel grid frequencies over the power around them, dB."""
    y = y - y.mean()
    window = np.outer(np.hanning(y.shape[0]), np.hanning(y.shape[1]))
    power = np.abs(np.fft.fft2(y * window)) ** 2
    h, w = power.shape
    ring = np.ones((9, 9), bool)  # the 9x9 bins around a frequency, without its own 3x3
    ring[3:6, 3:6] = False
    peaks, around = [], []
    for i in range(period):
        for j in range(period):
            if i == j == 0:
                continue
            cy, cx = round(i * h / period), round(j * w / period)
            patch = np.roll(power, (4 - cy, 4 - cx), axis=(0, 1))[:9, :9]  # 9x9 bins centred on the frequency
            peaks.append(patch[3:6, 3:6].mean())
            around.append(np.median(patch[ring]))
    return 10.0 * np.log10(np.mean(peaks) / np.mean(around))


def grid_strength(sr, hr, period=4, border=0):
    """A `period`-pixel grid in `sr` that `hr` does not have, in dB.

    A x4 sub-pixel generator computes each pixel phase (y mod 4, x mod 4)
    from its own output channels; after perceptual + adversarial training
    the phases can drift apart and show as a faint grid.  A grid is power
    at the spatial frequencies (i/period, j/period) cycles per pixel; this
    is how far that power stands above the spectrum around those
    frequencies (Y, Hann window, the 3x3 bins at each against the median
    of the 9x9 around), minus the same figure for `hr`.  Measured on Set5
    x4 images: bicubic -2..1 dB, a PSNR-trained generator about 2,
    GAN-trained ones 13..20 (their grid is visible).  A grid whose sign
    flips with the content every few pixels spreads its power and reads
    low.
    """
    sr_y, hr_y = _prepare(sr, hr, border)
    return float(_grid_peak_db(sr_y, period) - _grid_peak_db(hr_y, period))


def _phase_step_spread_db(y, period):
    """How unevenly `y` changes across its `period` pixel phases, dB.

    The mean |step| between neighbours x and x+1 is taken separately for each
    phase x mod `period` (rows and columns alike); the figure is the largest
    phase mean over the smallest.  An image made of flat `period`-pixel tiles
    changes only where tiles meet: one phase carries all its steps.
    """
    spreads = []
    for steps in (np.abs(np.diff(y, axis=1)), np.abs(np.diff(y, axis=0)).T):
        by_phase = [steps[:, p::period].mean() for p in range(period)]
        spreads.append(max(by_phase) / max(min(by_phase), 1e-6))
    return 10.0 * np.log10(np.mean(spreads))


def blockiness(sr, hr, period=4, border=0):
    """`period` x `period` tiles in `sr` that `hr` does not have, in dB.

    The grid metric (`grid_strength`) sees phases that differ by a fixed
    offset; it misses tiles: a nearest-upsampled x4 tail (resize-conv) makes
    outputs that are nearly flat inside each 4x4 tile and step at its edges,
    a pattern whose sign follows the content.  This is the spread of the
    mean |step| across pixel phases (`_phase_step_spread_db`, Y) of `sr`
    minus that of `hr`: about 0 for bicubic, large for tiled images.
    """
    sr_y, hr_y = _prepare(sr, hr, border)
    return float(_phase_step_spread_db(sr_y, period) - _phase_step_spread_db(hr_y, period))
