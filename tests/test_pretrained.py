"""The pretrained zoo shipped in the package: every entry loads by name,
upscales by its scale, beats bicubic on the bundled images, and its int8
file stays close to the float model."""

import json
import os

import pytest

from conftest import SHARED_WEIGHTS, needs_shared_data
from tfsr import pretrained, samples
from tfsr.arch import ArchSpec, count
from tfsr.data.evalsets import load_eval_set
from tfsr.errors import UserError
from tfsr.evaluation import evaluate
from tfsr.inference import BicubicUpscaler, load_upscaler

ENTRIES = {"x2": 2, "x3": 3, "x4": 4}  # Y-channel, trained for PSNR
PERCEPTUAL = "x4-perceptual"  # RGB, tfsr-tpsr's GAN generator


def test_the_zoo_ships_every_scale_with_its_spec_and_figures():
    assert pretrained.entries() == sorted([*ENTRIES, PERCEPTUAL])
    figures = pretrained.figures()
    for entry in [*ENTRIES, PERCEPTUAL]:
        folder = os.path.join(pretrained.ZOO_DIR, entry)
        spec = ArchSpec.load(os.path.join(folder, "spec.json"))
        assert spec.scale == ENTRIES.get(entry, 4) and spec.channels == (3 if entry == PERCEPTUAL else 1)
        for name in pretrained.FILES.values():
            # Tiny, as promised: the Y models under 100 KB; the RGB one's 10K params in more layers (HDF5
            # headers per layer dominate a deflated .keras this small) under 150 KB.
            limit = 100_000 if entry in ENTRIES else 150_000
            assert os.path.getsize(os.path.join(folder, name)) < limit
        assert figures[entry]["spec"] == spec.to_dict()
        assert figures[entry]["params"] == count(spec).params
    with pytest.raises(UserError, match="zoo:x2, zoo:x2-int8"):
        pretrained.resolve("zoo:x5")


@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_zoo_models_beat_bicubic_in_float_and_int8(entry):
    scale = ENTRIES[entry]
    val = load_eval_set(samples.VAL_DIR, scale)
    bicubic = evaluate(BicubicUpscaler(scale), val, scale)["mean"]["psnr"]
    float_model = load_upscaler(f"zoo:{entry}")
    int8_model = load_upscaler(f"zoo:{entry}-int8", num_threads=1)
    assert float_model.scale == int8_model.scale == scale
    float_psnr = evaluate(float_model, val, scale)["mean"]["psnr"]
    int8_psnr = evaluate(int8_model, val, scale)["mean"]["psnr"]
    assert float_psnr > bicubic + 0.5, (float_psnr, bicubic)
    assert abs(float_psnr - int8_psnr) < 0.3, (float_psnr, int8_psnr)


def test_zoo_json_is_what_bench_zoo_measured():
    with open(os.path.join(pretrained.ZOO_DIR, "zoo.json")) as f:
        manifest = json.load(f)
    assert "steps" in manifest["budget"] and "cores" in manifest["measured_on"]
    for entry in ENTRIES:
        row = manifest["entries"][entry]
        for key in ("float_Set5", "float_Set14", "int8_Set5", "int8_Set14", "int8_ms_1thread", "mult_adds"):
            assert key in row


@needs_shared_data
def test_the_perceptual_zoo_model_beats_bicubic_on_both_lpips_and_its_int8_file_stays_close():
    from tfsr.gan.report import perceptual_metrics
    from tfsr.perceptual import LPIPS

    metrics = perceptual_metrics([LPIPS.load(os.path.join(SHARED_WEIGHTS, f"lpips_{b}_v0.1.npz")) for b in ("alex", "squeeze")], 4)
    val = load_eval_set(samples.VAL_DIR, 4)
    bicubic = evaluate(BicubicUpscaler(4), val, 4, metrics)["mean"]
    gan = evaluate(load_upscaler(f"zoo:{PERCEPTUAL}"), val, 4, metrics)["mean"]
    int8 = evaluate(load_upscaler(f"zoo:{PERCEPTUAL}-int8", num_threads=1), val, 4, metrics)["mean"]
    assert gan["lpips"] < bicubic["lpips"] - 0.05 and gan["lpips_squeeze"] < bicubic["lpips_squeeze"] - 0.03, gan
    assert abs(gan["psnr"] - int8["psnr"]) < 0.3 and abs(gan["lpips"] - int8["lpips"]) < 0.02, (gan, int8)
    row = pretrained.figures()[PERCEPTUAL]
    assert {"lpips", "lpips_squeeze", "grid"} <= set(row["float_Set5_extra"]) and "budget" in row
