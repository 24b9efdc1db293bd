"""LPIPS (against the published reference values) and the perceptual losses."""

import os

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_WEIGHTS, run_tool, shared
from tfsr import samples
from tfsr.errors import UserError
from tfsr.perceptual import LPIPS, PerceptualLoss, random_lpips_weights

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
    # ../shared/weights/README.md: Pillow bicubic upscaling of the LR, full image.
    reference = [0.2995, 0.2455, 0.3612, 0.4152, 0.3719]
    metric = LPIPS.load(REAL_LPIPS)
    for i, expected in enumerate(reference, start=1):
        stem = shared("val", "Set5", "x4", f"img_00{i}_SRF_4")
        hr = Image.open(stem + "_HR.png").convert("RGB")
        sr = Image.open(stem + "_LR.png").convert("RGB").resize(hr.size, Image.BICUBIC)
        assert metric.score(np.asarray(sr), np.asarray(hr)) == pytest.approx(expected, abs=0.002)


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
    with pytest.raises(UserError, match="must be 'lpips' or 'vgg19'"):
        PerceptualLoss.from_config("vgg16")


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
