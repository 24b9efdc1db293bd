import numpy as np
import pytest

from conftest import needs_shared_data, shared
from tfsr import metrics, samples
from tfsr.data.evalsets import load_eval_set
from tfsr.evaluation import evaluate
from tfsr.inference import BicubicUpscaler

# Published bicubic baselines (PSNR, SSIM), Y channel, `scale` border.
PUBLISHED = {
    ("Set5", 2): (33.66, 0.9299),
    ("Set14", 2): (30.24, 0.8688),
    ("Set5", 4): (28.42, 0.8104),
    ("Set14", 4): (26.00, 0.7027),
}


@needs_shared_data
@pytest.mark.parametrize("name,scale", list(PUBLISHED))
def test_bicubic_reproduces_published_baselines(name, scale):
    pairs = load_eval_set(shared("val", name), scale)
    report = evaluate(BicubicUpscaler(scale), pairs, scale)
    psnr, ssim = PUBLISHED[(name, scale)]
    assert abs(report["mean"]["psnr"] - psnr) <= 0.03
    assert abs(report["mean"]["ssim"] - ssim) <= 0.002


def test_psnr_of_known_error():
    hr = np.full((20, 20), 100.0)
    sr = hr + 5.0  # MSE 25 everywhere
    assert metrics.psnr(sr, hr) == pytest.approx(10 * np.log10(255**2 / 25))
    assert metrics.psnr(hr, hr) == float("inf")


def test_border_is_cropped():
    hr = np.zeros((20, 20))
    sr = hr.copy()
    sr[:2, :] = 255  # errors only in the 2-pixel border
    assert metrics.psnr(sr, hr, border=2) == float("inf")
    assert metrics.psnr(sr, hr, border=1) < 20


def test_rgb_is_scored_on_bt601_luma(rng):
    hr = rng.integers(0, 256, (24, 24, 3)).astype(np.uint8)
    sr = hr.copy()
    sr[..., 2] = 0  # blue barely moves Y (weight 24.966/255)
    y_err = np.mean((hr[..., 2] * 24.966 / 255.0) ** 2)
    assert metrics.psnr(sr, hr) == pytest.approx(10 * np.log10(255**2 / y_err))


def test_gray_images_are_scored_on_gray_values(rng):
    hr = rng.integers(0, 256, (24, 24)).astype(np.uint8)
    sr = np.clip(hr.astype(int) + 3, 0, 255)
    expected = 10 * np.log10(255**2 / np.mean((sr - hr.astype(int)) ** 2))
    assert metrics.psnr(sr, hr) == pytest.approx(expected)


def test_ssim_properties(rng):
    hr = rng.integers(0, 256, (40, 40)).astype(np.float64)
    assert metrics.ssim(hr, hr) == pytest.approx(1.0)
    scores = [metrics.ssim(hr + rng.normal(0, sigma, hr.shape), hr) for sigma in (5, 20, 60)]
    assert 1 > scores[0] > scores[1] > scores[2] > 0


def test_size_mismatch_is_an_error():
    with pytest.raises(ValueError):
        metrics.psnr(np.zeros((4, 4)), np.zeros((4, 5)))


def test_before_after_row_labels_each_crop_with_its_psnr(rng):
    from tfsr import visualize

    hr = load_eval_set(samples.VAL_DIR, 2)[0].hr
    noisy = np.clip(hr + rng.normal(0, 8, hr.shape), 0, 255).astype(np.uint8)
    crop = visualize.busiest_crop(hr, 32)
    t, l, h, w = crop
    assert visualize.crop_psnr(noisy, hr, crop) == pytest.approx(metrics.psnr(noisy[t : t + h, l : l + w], hr[t : t + h, l : l + w]))
    # The crop's PSNR differs from the whole image's: the label is the crop's own.
    assert abs(visualize.crop_psnr(noisy, hr, crop) - metrics.psnr(noisy, hr)) > 1e-3
    row = visualize.before_after_row("baby", [("noisy", noisy), ("same", hr)], hr, crop_size=32, zoom=2)
    # Title line + label line above three 64-pixel tiles (noisy, same, HR) with 4-pixel gaps.
    assert row.size == (3 * 64 + 2 * 4, 18 + 18 + 64)


def test_grid_strength_sees_a_4_pixel_grid_that_bicubic_does_not_have():
    pairs = load_eval_set(samples.VAL_DIR, 4)
    bicubic = BicubicUpscaler(4)
    for pair in pairs:
        sr = bicubic.super_resolve(pair.lr).image.astype(np.float64)
        grid = np.zeros(sr.shape[:2])
        grid[::4, ::4], grid[2::4, 2::4] = 2.0, -2.0  # +-2 levels on 2 of the 16 phases: faint, but a grid
        with_grid = np.clip(sr + grid[..., None], 0, 255)
        assert abs(metrics.grid_strength(sr, pair.hr, border=4)) < 3.0
        assert metrics.grid_strength(with_grid, pair.hr, border=4) > 20.0


def test_blockiness_sees_flat_4x4_tiles_that_bicubic_does_not_have():
    pairs = load_eval_set(samples.VAL_DIR, 4)
    bicubic = BicubicUpscaler(4)
    for pair in pairs:
        sr = bicubic.super_resolve(pair.lr).image.astype(np.float64)
        tiles = np.repeat(np.repeat(pair.lr.astype(np.float64), 4, 0), 4, 1)  # nearest x4: flat tiles
        assert abs(metrics.blockiness(sr, pair.hr, border=4)) < 2.5
        assert metrics.blockiness(tiles, pair.hr, border=4) > 10.0
