import logging

import numpy as np
import pytest
from PIL import Image

from conftest import needs_shared_data, shared
from tfsr import samples
from tfsr.data.evalsets import load_eval_set
from tfsr.data.images import load_folder, load_image
from tfsr.data.imresize import imresize
from tfsr.data.pipeline import PatchDataset
from tfsr.errors import UserError


@pytest.fixture
def odd_folder(tmp_path, rng):
    """A folder with the kinds of files real data sets contain."""
    base = rng.integers(0, 256, (64, 80, 3)).astype(np.uint8)
    Image.fromarray(base).save(tmp_path / "rgb.png")
    Image.fromarray(base[..., 0]).save(tmp_path / "gray.png")
    Image.fromarray(np.dstack([base, np.full(base.shape[:2], 255, np.uint8)])).save(tmp_path / "rgba.png")
    Image.fromarray((base[..., 0].astype(np.uint16) * 257)).save(tmp_path / "deep16.png")
    Image.fromarray(base).save(tmp_path / "photo.jpg")
    nested = tmp_path / "sub" / "deeper"
    nested.mkdir(parents=True)
    Image.fromarray(base).save(nested / "nested.bmp")
    Image.fromarray(base[:10, :10]).save(tmp_path / "tiny.png")
    (tmp_path / "broken.png").write_bytes(b"not an image at all")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    return tmp_path


def test_odd_files_are_converted_or_skipped_with_a_named_warning(odd_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="tfsr"):
        images, paths = load_folder(str(odd_folder), min_size=32)
    names = sorted(p.split("/")[-1] for p in paths)
    assert names == ["deep16.png", "gray.png", "nested.bmp", "photo.jpg", "rgb.png", "rgba.png"]
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in images)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert any("broken.png" in w for w in warnings)
    assert any("tiny.png" in w and "smaller" in w for w in warnings)
    # 16-bit is scaled, not truncated: x*257/65535*255 == x.
    deep = load_image(str(odd_folder / "deep16.png"))
    np.testing.assert_array_equal(deep, load_image(str(odd_folder / "gray.png")))


def test_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="no image files"):
        load_folder(str(tmp_path))
    with pytest.raises(UserError, match="not found"):
        load_folder(str(tmp_path / "nope"))


@pytest.mark.parametrize("color,channels", [("y", 1), ("rgb", 3)])
def test_patch_pipeline_yields_matching_pairs(color, channels):
    data = PatchDataset(samples.TRAIN_DIR, scale=3, patch_size=12, batch_size=4, color=color, seed=0)
    lr, hr = next(iter(data.dataset()))
    assert lr.shape == (4, 12, 12, channels) and hr.shape == (4, 36, 36, channels)
    assert 0.0 <= float(np.min(lr)) and float(np.max(hr)) <= 1.0
    if color == "y":  # studio-swing luma never leaves [16, 235]
        assert float(np.min(hr)) >= 16 / 255 - 1e-6 and float(np.max(hr)) <= 235 / 255 + 1e-6


def test_lr_is_the_matlab_resize_of_hr_even_after_augmentation():
    """Flips/rotations must be applied identically to both halves of a pair."""
    data = PatchDataset(samples.TRAIN_DIR, scale=2, patch_size=16, batch_size=8, color="rgb", seed=3)
    lr, hr = next(iter(data.dataset()))
    for i in range(8):
        hr_u8 = np.round(hr[i].numpy() * 255).astype(np.uint8)
        got = np.round(lr[i].numpy() * 255).astype(int)
        # A 90-degree turn swaps which pass MATLAB rounds (and clips) first,
        # so the pair matches the resize in one of the two pass orders; a
        # pair augmented differently would be off by tens of levels.
        rows_first = imresize(hr_u8, scale=0.5).numpy()
        cols_first = imresize(hr_u8.transpose(1, 0, 2), scale=0.5).numpy().transpose(1, 0, 2)
        errors = [np.abs(ref.astype(int) - got)[2:-2, 2:-2].max() for ref in (rows_first, cols_first)]
        assert min(errors) <= 1


def test_eval_set_from_hr_only_folder():
    pairs = load_eval_set(samples.VAL_DIR, scale=3)
    assert len(pairs) == 3
    for p in pairs:
        assert p.hr.shape[0] == 3 * p.lr.shape[0] and p.hr.shape[1] == 3 * p.lr.shape[1]


@needs_shared_data
def test_eval_set_from_pair_folder_and_scale_subfolder():
    pairs = load_eval_set(shared("val", "Set14"), scale=4)
    assert len(pairs) == 14
    assert sum(p.hr.ndim == 2 for p in pairs) == 1  # one gray image in Set14
    with pytest.raises(UserError, match="not a x3 pair"):
        load_eval_set(shared("val", "Set5", "x2"), scale=3)
