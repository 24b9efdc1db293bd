import json

import numpy as np
from PIL import Image

from conftest import needs_shared_data, run_tool, shared
from tfsr import samples
from tfsr.arch import build_model, zoo
from tfsr.data.images import load_image


def _one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [l for l in result.stderr.strip().splitlines() if l.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_cost_prints_one_json_line(tmp_path):
    result = run_tool("cost", "--arch=fsrcnn", "--lr_size=480x480", "--scale=2")
    assert result.returncode == 0, result.stderr
    # "int8": the file with PReLUs split (twice the channels around each; worked by hand per LR
    # pixel: stem 25*112, shrink 112*24, 4 maps 9*24*24, expand 24*112, deconv 81*112 on 4 HR pixels).
    int8 = {"params": 38329, "mult_adds": (2800 + 2688 + 4 * 5184 + 2688 + 81 * 112 * 4) * 480 * 480}
    assert json.loads(result.stdout) == {"params": 12809, "mult_adds": 6006988800, "int8": int8}
    spec_file = tmp_path / "spec.json"
    zoo.espcn(3).save(spec_file)
    result = run_tool("cost", f"--arch={spec_file}", "--lr_size=10x20", "--scale=3")
    assert json.loads(result.stdout)["params"] == build_model(zoo.espcn(3)).count_params()


# The table of user mistakes (one line, exit 2) is tests/test_user_errors.py.


def test_bad_spec_file_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"scale": 2, "cells": [{"block": "conv", "channels": 16, "inputs": [4]}]}))
    _one_line_error(run_tool("cost", f"--arch={bad}"), "bad.json", "cells[0].inputs")


def test_evaluate_writes_the_documented_json(tmp_path):
    model_path = tmp_path / "m.keras"
    build_model(zoo.espcn(2)).save(model_path)
    out = tmp_path / "r.json"
    result = run_tool("evaluate", f"--model={model_path}", "--scale=2", f"--json_out={out}")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert set(report["mean"]) == {"psnr", "ssim"}
    assert [r["name"] for r in report["images"]] == ["94079", "95006", "97017"]
    assert "mean" in result.stdout and "94079" in result.stdout


@needs_shared_data
def test_evaluate_bicubic_on_benchmark(tmp_path):
    out = tmp_path / "r.json"
    result = run_tool("evaluate", "--model=bicubic", f"--data={shared('val', 'Set5')}", "--scale=2", f"--json_out={out}")
    assert result.returncode == 0, result.stderr
    assert abs(json.loads(out.read_text())["mean"]["psnr"] - 33.66) < 0.03


def test_upscale_tiles_large_images_like_whole_ones(tmp_path, rng):
    model_path = tmp_path / "m.keras"
    build_model(zoo.fsrcnn(2)).save(model_path)
    image = load_image(f"{samples.TRAIN_DIR}/t1.png")
    big = np.tile(image, (3, 4, 1))[:300, :410]  # several tiles, ragged edges
    Image.fromarray(big).save(tmp_path / "big.png")
    outs = {}
    for tile in (0, 64):
        out = tmp_path / f"out{tile}.png"
        result = run_tool(
            "upscale", f"--model={model_path}", f"--input={tmp_path / 'big.png'}", f"--output={out}",
            f"--tile={tile}", "--overlap=12",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        outs[tile] = load_image(str(out))
    assert outs[0].shape == (600, 820, 3)
    # FSRCNN's receptive field is 11 LR px (radius 5+): 12 px of overlap makes tiling exact.
    assert np.abs(outs[0].astype(int) - outs[64]).max() <= 1
