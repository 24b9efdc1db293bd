"""The pretrained zoo shipped in the package: every entry loads by name,
upscales by its scale, beats bicubic on the bundled images, and its int8
file stays close to the float model."""

import json
import os

import pytest

from tfsr import pretrained, samples
from tfsr.arch import ArchSpec, count
from tfsr.data.evalsets import load_eval_set
from tfsr.errors import UserError
from tfsr.evaluation import evaluate
from tfsr.inference import BicubicUpscaler, load_upscaler

ENTRIES = {"x2": 2, "x3": 3, "x4": 4}


def test_the_zoo_ships_every_scale_with_its_spec_and_figures():
    assert pretrained.entries() == sorted(ENTRIES)
    figures = pretrained.figures()
    for entry in ENTRIES:
        folder = os.path.join(pretrained.ZOO_DIR, entry)
        spec = ArchSpec.load(os.path.join(folder, "spec.json"))
        assert spec.scale == ENTRIES[entry] and spec.channels == 1
        for name in pretrained.FILES.values():
            assert os.path.getsize(os.path.join(folder, name)) < 100_000  # tiny, as promised
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
