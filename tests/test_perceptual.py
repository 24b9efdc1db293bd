"""LPIPS (against the published reference values) and the perceptual losses."""

import os

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_WEIGHTS, run_tool, shared
from tfsr import samples
from tfsr.errors import UserError
from tfsr.perceptual import LPIPS, PerceptualLoss, random_lpips_weights
from tfsr.perceptual.lpips import normalize_input

REAL_LPIPS = os.path.join(SHARED_WEIGHTS, "lpips_alex_v0.1.npz")
needs_lpips_weights = pytest.mark.skipif(
    not os.path.exists(REAL_LPIPS), reason=f"real LPIPS weights not found at {REAL_LPIPS} (set TFSR_SHARED_WEIGHTS)"
)


@pytest.fixture(scope="module")
def fake_weights(tmp_path_factory):
    return random_lpips_weights(str(tmp_path_factory.mktemp("w") / "lpips.npz"), seed=3)


def _sample_pair():
    hr = np.asarray(Image.open(os.path.join(samples.VAL_DIR, sorted(os.listdir(samples.VAL_DIR))[0])).convert("RGB"))
    hr = hr[:96, :96]
    blurred = np.asarray(Image.fromarray(hr).resize((24, 24), Image.BICUBIC).resize((96, 96), Image.BICUBIC))
    return hr, blurred


@needs_lpips_weights
def test_lpips_reproduces_the_reference_bicubic_values_on_set5_x4():
    # ../shared/weights/README.md: Pillow bicubic upscaling of the LR, full
    # image, from an independent numpy implementation.  (Until 2026-11-24 the
    # file held spatially transposed kernels, which gave 0.2995, 0.2455,
    # 0.3612, 0.4152, 0.3719: LPIPS of the transposed images.)
    reference = [0.3024, 0.2360, 0.3733, 0.4211, 0.3663]
    metric = LPIPS.load(REAL_LPIPS)
    for i, expected in enumerate(reference, start=1):
        stem = shared("val", "Set5", "x4", f"img_00{i}_SRF_4")
        hr = Image.open(stem + "_HR.png").convert("RGB")
        sr = Image.open(stem + "_LR.png").convert("RGB").resize(hr.size, Image.BICUBIC)
        assert metric.score(np.asarray(sr), np.asarray(hr)) == pytest.approx(expected, abs=0.002)


@needs_lpips_weights
def test_lpips_squeeze_reproduces_the_reference_bicubic_values_and_evaluate_reports_both(tmp_path):
    squeeze = os.path.join(SHARED_WEIGHTS, "lpips_squeeze_v0.1.npz")
    reference = [0.2094, 0.1858, 0.3750, 0.4227, 0.2367]  # ../shared/weights/README.md
    metric = LPIPS.load(squeeze)
    assert metric.backbone == "squeeze" and metric.metric_name == "lpips_squeeze"
    for i, expected in enumerate(reference, start=1):
        stem = shared("val", "Set5", "x4", f"img_00{i}_SRF_4")
        hr = Image.open(stem + "_HR.png").convert("RGB")
        sr = Image.open(stem + "_LR.png").convert("RGB").resize(hr.size, Image.BICUBIC)
        assert metric.score(np.asarray(sr), np.asarray(hr)) == pytest.approx(expected, abs=0.002)
    out = tmp_path / "r.json"
    result = run_tool("evaluate", "--model=bicubic", f"--data={shared('val', 'Set5', 'x4')}", "--scale=4",
                      f"--lpips_weights={REAL_LPIPS},{squeeze}", f"--json_out={out}")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    mean = json.loads(out.read_text())["mean"]  # (one set: its report)
    assert mean["lpips"] == pytest.approx(0.3398, abs=0.002)
    assert mean["lpips_squeeze"] == pytest.approx(0.2859, abs=0.002)


def test_lpips_is_zero_for_identical_images_symmetric_and_grows_with_damage(fake_weights):
    metric = LPIPS.load(fake_weights)
    hr, blurred = _sample_pair()
    assert metric.score(hr, hr) == pytest.approx(0.0, abs=1e-6)
    d = metric.score(blurred, hr)
    assert d > 0 and metric.score(hr, blurred) == pytest.approx(d, rel=1e-5)
    noisy = np.clip(blurred + np.random.default_rng(0).normal(0, 25, blurred.shape), 0, 255).astype(np.uint8)
    assert metric.score(noisy, hr) > d
    gray = hr.mean(-1).astype(np.uint8)
    assert metric.score(gray, gray) == pytest.approx(0.0, abs=1e-6)


def _transposed_kernels(path, out):
    """The same weights file with every conv kernel's two spatial axes swapped."""
    with np.load(path) as data:
        arrays = {k: (data[k].transpose(1, 0, 2, 3) if k.endswith("_kernel") else data[k]) for k in data.files}
    np.savez(out, **arrays)
    return str(out)


def test_lpips_reads_kernels_as_hwio_rows_first(fake_weights, tmp_path):
    # A transposed-kernel file (the bug of the old shared weights) on ordinary
    # images computes exactly LPIPS of the transposed images with the right
    # kernels: conv, padding, pooling and the spatial mean all commute with a
    # transpose of both image and kernel.  The two must agree to float
    # precision, and differ from LPIPS of the untransposed pair, so a loader
    # that swapped (or failed to swap) the axes is caught.
    hr, blurred = _sample_pair()
    hr, blurred = hr[:96, :80], blurred[:96, :80]  # not square: height and width cannot be confused
    right = LPIPS.load(fake_weights)
    swapped = LPIPS.load(_transposed_kernels(fake_weights, tmp_path / "swapped.npz"))
    hr_t, blurred_t = hr.transpose(1, 0, 2), blurred.transpose(1, 0, 2)
    assert swapped.score(blurred_t, hr_t) == pytest.approx(right.score(blurred, hr), rel=1e-4)
    assert right.score(blurred_t, hr_t) == pytest.approx(swapped.score(blurred, hr), rel=1e-4)
    # The random kernels are not symmetric, so orientation matters.
    assert abs(right.score(blurred_t, hr_t) - right.score(blurred, hr)) > 1e-3 * right.score(blurred, hr)
    # And the loader reads kernel[dy, dx, in, out] with dy along image rows:
    # conv1 (11x11, stride 4, zero padding 2) at output (2, 5), by hand.
    with np.load(fake_weights) as data:
        kernel, bias = data["conv1_kernel"], data["conv1_bias"]
    x = np.asarray(normalize_input(hr[None].astype(np.float32) / 255.0))[0]
    padded = np.pad(x, ((2, 2), (2, 2), (0, 0)))
    window = padded[4 * 2 : 4 * 2 + 11, 4 * 5 : 4 * 5 + 11]
    by_hand = np.maximum(np.einsum("yxc,yxco->o", window, kernel) + bias, 0.0)
    relu1 = np.asarray(right.features(x[None])[0])[0, 2, 5]
    np.testing.assert_allclose(relu1, by_hand, atol=1e-4)


@needs_lpips_weights
def test_lpips_real_kernels_see_images_the_right_way_up(tmp_path):
    # With the real file, the transposed-kernel reading reproduces the old
    # (wrong) figure of img_001, the right reading the corrected one.
    stem = shared("val", "Set5", "x4", "img_001_SRF_4")
    hr = Image.open(stem + "_HR.png").convert("RGB")
    sr = np.asarray(Image.open(stem + "_LR.png").convert("RGB").resize(hr.size, Image.BICUBIC))
    hr = np.asarray(hr)
    swapped = LPIPS.load(_transposed_kernels(REAL_LPIPS, tmp_path / "swapped.npz"))
    assert swapped.score(sr, hr) == pytest.approx(0.2995, abs=0.002)
    assert LPIPS.load(REAL_LPIPS).score(sr, hr) == pytest.approx(0.3024, abs=0.002)


def test_lpips_weights_errors_name_the_flag_and_never_fall_back(tmp_path):
    with pytest.raises(UserError, match="--lpips_weights is required"):
        LPIPS.load("")
    with pytest.raises(UserError, match=r"--lpips_weights=.*nope\.npz: no such file"):
        LPIPS.load(str(tmp_path / "nope.npz"))
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(UserError, match="not an LPIPS weights"):
        LPIPS.load(str(tmp_path / "junk.npz"))
    np.savez(tmp_path / "short.npz", conv1_kernel=np.zeros((3, 3, 3, 64), np.float32))
    with pytest.raises(UserError, match="conv1_kernel has shape"):
        LPIPS.load(str(tmp_path / "short.npz"))


def test_tfsr_evaluate_adds_an_lpips_column(fake_weights, tmp_path):
    out = tmp_path / "r.json"
    result = run_tool(
        "evaluate", "--model=bicubic", "--scale=2", f"--lpips_weights={fake_weights}", f"--json_out={out}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lpips" in result.stdout.splitlines()[1]
    import json

    report = json.loads(out.read_text())
    assert all(row["lpips"] > 0 for row in report["images"])
    missing = run_tool("evaluate", "--model=bicubic", "--lpips_weights=/no/such/lpips.npz")
    assert missing.returncode == 2 and "--lpips_weights=/no/such/lpips.npz: no such file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_perceptual_loss_on_lpips_features(fake_weights):
    loss = PerceptualLoss.from_config("lpips", lpips_weights=fake_weights)
    hr, blurred = _sample_pair()
    hr_batch, blurred_batch = hr[None] / 255.0, blurred[None] / 255.0
    assert float(loss(hr_batch, hr_batch)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(blurred_batch, hr_batch)) > 0.01
    with pytest.raises(UserError, match="config.gan.lpips_weights is required"):
        PerceptualLoss.from_config("lpips", lpips_weights="")
    with pytest.raises(UserError, match="must be 'vgg16', 'lpips' or 'vgg19'"):
        PerceptualLoss.from_config("alexnet")


def test_vgg16_perceptual_loss_from_the_relu2_2_file(tmp_path):
    from tfsr.perceptual.vgg16 import random_vgg16_weights

    real = os.path.join(SHARED_WEIGHTS, "vgg16_relu2_2.npz")
    path = real if os.path.exists(real) else random_vgg16_weights(str(tmp_path / "vgg16.npz"))
    loss = PerceptualLoss.from_config("vgg16", vgg16_weights=path)
    hr, blurred = _sample_pair()
    hr_batch, blurred_batch = hr[None] / 255.0, blurred[None] / 255.0
    assert float(loss(hr_batch, hr_batch)) == pytest.approx(0.0, abs=1e-6)
    slightly = np.clip(hr_batch + 0.02 * np.random.default_rng(0).standard_normal(hr_batch.shape), 0, 1)
    assert float(loss(blurred_batch, hr_batch)) > float(loss(slightly.astype(np.float32), hr_batch)) > 0
    # Gradients reach the image (it trains a generator).
    import tensorflow as tf

    x = tf.Variable(blurred_batch.astype(np.float32))
    with tf.GradientTape() as tape:
        value = loss(x, hr_batch.astype(np.float32))
    assert np.abs(tape.gradient(value, x).numpy()).max() > 0
    with pytest.raises(UserError, match="vgg16_weights is required"):
        PerceptualLoss.from_config("vgg16")
    with pytest.raises(UserError, match="not a VGG16"):
        PerceptualLoss.from_config("vgg16", vgg16_weights=random_lpips_weights(str(tmp_path / "alex.npz")))


def test_multi_scale_perceptual_loss_adds_the_distance_of_pooled_copies(tmp_path):
    from tfsr.perceptual.vgg16 import random_vgg16_weights

    real = os.path.join(SHARED_WEIGHTS, "vgg16_relu2_2.npz")
    path = real if os.path.exists(real) else random_vgg16_weights(str(tmp_path / "vgg16.npz"))
    hr, blurred = _sample_pair()
    hr_batch, blurred_batch = (hr[None] / 255.0).astype(np.float32), (blurred[None] / 255.0).astype(np.float32)

    def halved(x):  # 2x2 means, as the loss pools
        return x.reshape(1, 48, 2, 48, 2, 3).mean(axis=(2, 4))

    single = PerceptualLoss.from_config("vgg16", vgg16_weights=path)
    both = PerceptualLoss.from_config("vgg16", vgg16_weights=path, scales=(1, 2))
    expected = (float(single(blurred_batch, hr_batch)) + float(single(halved(blurred_batch), halved(hr_batch)))) / 2
    assert float(both(blurred_batch, hr_batch)) == pytest.approx(expected, rel=1e-4)
    assert float(both(blurred_batch, hr_batch)) != pytest.approx(float(single(blurred_batch, hr_batch)), rel=1e-3)
    assert float(both(hr_batch, hr_batch)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(UserError, match="perceptual_scales must be pooling factors"):
        PerceptualLoss.from_config("vgg16", vgg16_weights=path, scales=(0,))


def test_perceptual_loss_loads_vgg19_weights_from_a_file(tmp_path):
    import keras

    with pytest.raises(UserError, match="vgg19_weights is required"):
        PerceptualLoss.from_config("vgg19", vgg19_weights="")
    with pytest.raises(UserError, match="no such file"):
        PerceptualLoss.from_config("vgg19", vgg19_weights=str(tmp_path / "vgg19.h5"))
    # The real file is ImageNet's; the loading path is the same for any VGG19 weights.
    path = str(tmp_path / "vgg19_notop.weights.h5")
    keras.applications.VGG19(include_top=False, weights=None).save_weights(path)
    loss = PerceptualLoss.from_config("vgg19", vgg19_weights=path)
    hr, blurred = _sample_pair()
    assert float(loss(hr[None] / 255.0, hr[None] / 255.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(loss(blurred[None] / 255.0, hr[None] / 255.0)) > 0
    (tmp_path / "bad.h5").write_text("junk")
    with pytest.raises(UserError, match="cannot load VGG19 weights"):
        PerceptualLoss.from_config("vgg19", vgg19_weights=str(tmp_path / "bad.h5"))
