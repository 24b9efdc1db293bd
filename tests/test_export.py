"""Deployment: tf_keras rebuild, TFMOT quantization of every block type,
TFLite flavours at any input size, SavedModel signatures for TF Serving."""

import base64
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_tool
from tfsr import samples
from tfsr.arch import ArchSpec, build_model, zoo
from tfsr.arch.registry import BLOCKS, UPSAMPLERS, GateBlock
from tfsr.config import train_config
from tfsr.data.evalsets import load_eval_set
from tfsr.data.pipeline import PatchDataset
from tfsr.evaluation import evaluate
from tfsr.export import tflite
from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights, quantize_model, trained_float_model
from tfsr.inference import KerasUpscaler, TFLiteUpscaler, load_upscaler
from tfsr.train import Trainer


def every_op_specs():
    """Specs that together use every block type, upsampler, activation and
    global skip, both merge modes, a re-parameterizable stem and tail, and a
    clipped output."""
    blocks = sorted(BLOCKS)
    in_place = {"distill"} | {name for name, cls in BLOCKS.items() if issubclass(cls, GateBlock)}
    activations = ["relu", "prelu", "tanh", "leaky_relu"]
    # One variant per upsampler, each with its own global skip (subpixel's is the anchor).
    others = [u for u in sorted(UPSAMPLERS) if u != "subpixel"]
    variants = [(u, ["bilinear", "nearest"][k % 2]) for k, u in enumerate(others)] + [("subpixel", "anchor")]
    specs = []
    for k, (upsampler, skip) in enumerate(variants):
        cells = [
            {"block": b, "channels": 16, "kernel": 3, "repeats": 1 + (i % 2), "residual": i % 2 == 1,
             "activation": activations[(i + k) % len(activations)],
             # distill and the gates work in place: they read one node of their own width.
             "inputs": [i] if b in in_place else list(range(i + 1)),
             "merge": "sum" if k == 0 else "concat",  # TPSR's summed links in one variant
             "options": {"esa": True} if b == "distill" else {}}
            for i, b in enumerate(blocks)
        ]  # fmt: skip
        anchor = skip == "anchor"
        specs.append(ArchSpec.from_dict({
            "name": f"all_ops_{upsampler}_{skip}", "scale": 2, "channels": 1,
            "stem": {"filters": 16, "kernel": 3, "activation": "prelu", "block": "ecb" if anchor else "conv"},
            "cells": cells,
            "upsampler": {"type": upsampler, "kernel": 3, "global_skip": skip, "clip": anchor,
                          "block": "collapsible" if anchor else "conv"},
        }))  # fmt: skip
    return specs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """ESPCN x2 with a bilinear global skip, trained briefly on the bundled
    images, saved as tfsr-train does."""
    import keras

    folder = tmp_path_factory.mktemp("espcn")
    spec = zoo.espcn(2)
    spec.upsampler.global_skip = "bilinear"
    keras.utils.set_random_seed(0)
    cfg = train_config()
    cfg.update(dict(steps=300, batch_size=16, patch_size=16, checkpoint_every=300, log_every=300, learning_rate=3e-3))
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=16, seed=0)
    Trainer(spec, data, [], str(folder), cfg, verbose=False).fit()
    return str(folder / "model.keras")


@pytest.fixture(scope="module")
def val_pairs():
    return load_eval_set(samples.VAL_DIR, 2)


def test_tf_keras_rebuild_equals_the_keras3_model_for_every_op(rng):
    for spec in every_op_specs():
        model = build_model(spec)
        for w in model.weights:  # non-trivial PReLU slopes and biases too
            # Kernels scaled by fan-in keep every activation O(1) however wide
            # a block is inside (a collapsible block expands to 256 channels).
            std = 0.2 if len(w.shape) < 2 else 1.0 / np.sqrt(np.prod(w.shape[:-1]))
            w.assign(rng.normal(0, std, w.shape).astype("float32"))
        x = rng.random((2, 13, 17, 1)).astype(np.float32)
        for native_groups in (False, True):  # split convs, or one grouped Conv2D
            tfk = copy_weights(model, build_tfkeras_model(spec, native_groups=native_groups))
            np.testing.assert_allclose(tfk(x).numpy(), np.asarray(model(x)), atol=1e-5, err_msg=spec.name)
        # QAT trains in the split layout; its float weights come back out intact.
        plain = trained_float_model(spec, quantize_model(spec, model, native_groups=False))
        np.testing.assert_allclose(plain(x).numpy(), np.asarray(model(x)), atol=1e-5, err_msg=spec.name)


@pytest.mark.parametrize("spec", every_op_specs(), ids=lambda s: s.name)
def test_every_block_type_quantizes_and_converts_to_full_integer(spec, rng):
    """TFMOT wraps every layer (custom ones via QuantizeConfigs); the converter,
    limited to int8 builtins, accepts every op; the int8 model tracks the float one."""
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(spec)
    patches = [rng.random((1, 16, 16, 1)).astype(np.float32) for _ in range(16)]
    qat = quantize_model(spec, model, calibration=patches)
    data = tflite.convert(qat, "int8_qat", patches, io_type="uint8")
    path = os.path.join(os.environ.get("PYTEST_TMP", "/tmp"), f"{spec.name}_{os.getpid()}.tflite")
    with open(path, "wb") as f:
        f.write(data)
    try:
        upscaler = TFLiteUpscaler(path)
        assert upscaler.scale == 2 and upscaler.channels == 1
        types = {d["dtype"].__name__ for d in upscaler.interpreter.get_tensor_details()}
        assert types <= {"int8", "uint8", "int32"}, types  # no float op left
        for h, w in ((16, 16), (23, 31)):  # any input size
            x = rng.random((1, h, w, 1)).astype(np.float32)
            # The file's output is the image range [0, 1] (`put_output_on_image_grid`).
            out, ref = upscaler._run(x), np.clip(np.asarray(model(x)), 0.0, 1.0)
            assert out.shape == ref.shape == (1, 2 * h, 2 * w, 1)
            # Random weights amplify rounding more than trained ones: a loose bound.
            assert np.abs(out - ref).mean() < 0.2 * np.abs(ref).mean()
            assert np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.97
    finally:
        os.remove(path)


def test_tflite_flavours_keep_the_quality_of_the_keras_model(trained, val_pairs, tmp_path):
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(trained)
    model = load_trained(trained, spec)
    keras_psnr = evaluate(KerasUpscaler(model), val_pairs, 2)["mean"]["psnr"]
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=24, batch_size=8, seed=0)
    patches = tflite.representative_patches(data, 40)
    tfk = copy_weights(model, build_tfkeras_model(spec))
    limits = {"none": 0.01, "float16": 0.02, "dynamic": 0.2, "int8": 0.5, "int16x8": 0.05}
    sizes, psnrs = {}, {}
    for mode, limit in limits.items():
        path = str(tmp_path / f"{mode}.tflite")
        with open(path, "wb") as f:
            f.write(tflite.convert(tfk, mode, patches if mode in tflite.CALIBRATED_MODES else None))
        sizes[mode] = os.path.getsize(path)
        psnr = evaluate(load_upscaler(path, 2, tile=40), val_pairs, 2)["mean"]["psnr"]  # tiles: resized input
        assert keras_psnr - psnr < limit, (mode, keras_psnr, psnr)
        psnrs[mode] = psnr
    assert sizes["float16"] < 0.7 * sizes["none"] and sizes["int8"] < 0.5 * sizes["none"]
    # 16-bit activations keep what 8-bit ones lose.
    assert keras_psnr - psnrs["int16x8"] < (keras_psnr - psnrs["int8"]) / 2 + 0.005


def test_calibration_ranges_trade_outliers_for_resolution():
    from tfsr.export.tfkeras_model import activation_range

    rng = np.random.default_rng(0)
    values = np.concatenate([np.abs(rng.normal(0, 0.1, 200_000)), [5.0]])  # one outlier far out
    def mse(lo, hi):
        step = (hi - lo) / 255
        return np.mean((np.round((np.clip(values, lo, hi) - lo) / step) * step + lo - values) ** 2)

    minmax = activation_range(values, 0.0, 5.0, "minmax")
    percentile = activation_range(values, 0.0, 5.0, "percentile")
    best = activation_range(values, 0.0, 5.0, "mse")
    assert minmax == (0.0, 5.0)
    assert percentile[0] == 0.0 and 0.3 < percentile[1] < 0.6  # the 99.99th percentile of |N(0, 0.1)|
    assert best[1] < 5.0 and mse(*best) < mse(*minmax)
    assert activation_range(-values, -5.0, 0.0, "percentile")[1] == 0.0  # ranges always contain 0


def test_export_int8_with_percentile_and_mse_calibration(trained, val_pairs, tmp_path):
    for method in ("percentile", "mse"):
        out = tmp_path / f"{method}.tflite"
        result = run_tool("export", f"--model={trained}", "--quantize=int8", f"--calibration={method}",
                          f"--out={out}", "--representative_samples=40")  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        upscaler = TFLiteUpscaler(str(out))
        assert {d["dtype"].__name__ for d in upscaler.interpreter.get_tensor_details()} <= {"int8", "int32", "float32"}
        keras_psnr = float(result.stdout.split("PSNR:")[1].split("dB")[0])
        assert keras_psnr - evaluate(upscaler, val_pairs, 2)["mean"]["psnr"] < 0.5


def test_int8_export_gives_the_conv_before_the_anchor_add_its_own_range(tmp_path):
    """Post-training int8 converts a fake-quant model whose ranges tfsr's
    calibration set (`tflite.calibrated_int8_model`): the tail conv keeps
    the range it writes on the calibration patches.  The TFLite converter's
    own calibrator gave it the add's range as well (the anchor's [0, 1]),
    a coarser step on the image: the zoo's x2 model lost 0.118 dB on Set5
    that way, 0.075 this way."""
    import keras

    from tfsr.export.exporter import export

    keras.utils.set_random_seed(0)
    spec = zoo.abpn(scale=2, c=8)
    model = build_model(spec)
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=24, batch_size=8, seed=0)
    out = str(tmp_path / "abpn_int8.tflite")
    export(model, spec, "tflite", out, quantize="int8", train_data=data, representative_samples=40,
           calibration="minmax", log=lambda m: None)  # fmt: skip
    tail = keras.Model(model.input, model.get_layer("up_conv").output)
    values = np.concatenate([np.ravel(tail(p)) for p in tflite.representative_patches(data, 40)])
    own_step = (max(values.max(), 0.0) - min(values.min(), 0.0)) / 255
    interpreter = TFLiteUpscaler(out).interpreter
    ops = interpreter._get_ops_details()
    conv_outputs = {int(i) for op in ops if op["op_name"] == "CONV_2D" for i in op["outputs"]}
    (add,) = [op for op in ops if op["op_name"] == "ADD"]
    (tail_output,) = [int(i) for i in add["inputs"] if int(i) in conv_outputs]
    step = {d["index"]: d for d in interpreter.get_tensor_details()}[tail_output]["quantization"][0]
    assert step == pytest.approx(own_step, rel=0.02), (step, own_step)


@pytest.mark.parametrize("channels", [1, 3])
def test_int8_output_is_on_the_images_grid_and_an_rgb_input_on_its_own(channels, tmp_path):
    """The int8 file's output tensor has scale 1/255 on [0, 1], the grid of
    the uint8 image the upscaler saves, even for a net whose output is not
    clipped (ESPCN); an RGB input, a uint8 image / 255, has that grid too."""
    import keras

    from tfsr.export.exporter import export

    keras.utils.set_random_seed(0)
    spec = zoo.espcn(2)
    spec.channels = channels
    color = "rgb" if channels == 3 else "y"
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=24, batch_size=8, seed=0, color=color)
    out = str(tmp_path / "espcn_int8.tflite")
    export(build_model(spec), spec, "tflite", out, quantize="int8", train_data=data, representative_samples=16,
           calibration="minmax", log=lambda m: None)  # fmt: skip
    interpreter = TFLiteUpscaler(out).interpreter
    tensors = {d["index"]: d for d in interpreter.get_tensor_details()}
    ops = interpreter._get_ops_details()
    (dequantize,) = [op for op in ops if op["op_name"] == "DEQUANTIZE"]
    (quantize,) = [op for op in ops if op["op_name"] == "QUANTIZE"]
    output_grid = tensors[int(dequantize["inputs"][0])]["quantization"]
    assert output_grid[0] == pytest.approx(1 / 255, rel=1e-5) and output_grid[1] == -128
    input_grid = tensors[int(quantize["outputs"][0])]["quantization"]
    if channels == 3:
        assert input_grid[0] == pytest.approx(1 / 255, rel=1e-5) and input_grid[1] == -128
    else:  # Y is on no 8-bit grid: its range is the calibration patches' (at most Y's 235/255)
        assert input_grid[0] < 0.93 / 255


def test_export_cli_int8_uint8_io_then_evaluate_and_upscale_take_the_tflite(trained, tmp_path):
    out = tmp_path / "m_int8.tflite"
    result = run_tool("export", f"--model={trained}", "--quantize=int8", "--io_type=uint8", f"--out={out}",
                      "--representative_samples=40", "--calibration=minmax")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "size:" in result.stdout and "drop" in result.stdout
    upscaler = TFLiteUpscaler(str(out))
    assert upscaler._input["dtype"] == np.uint8
    evaluated = run_tool("evaluate", f"--model={out}", "--scale=2")
    assert evaluated.returncode == 0 and "mean" in evaluated.stdout, evaluated.stderr[-2000:]
    image = os.path.join(samples.VAL_DIR, sorted(os.listdir(samples.VAL_DIR))[0])
    upscaled = run_tool("upscale", f"--model={out}", f"--input={image}", f"--output={tmp_path / 'up.png'}")
    assert upscaled.returncode == 0, upscaled.stderr[-2000:]
    w, h = Image.open(image).size
    assert Image.open(tmp_path / "up.png").size == (2 * w, 2 * h)


def test_the_qat_int8_file_computes_what_qat_simulated(trained, val_pairs, tmp_path):
    """After fine-tuning, the exported file scores what the fake-quant model
    did: tanh's output is simulated on the fixed grid TFLite's TANH writes
    (TFMOT simulates none), and the trained ranges travel to the grouped
    layout instead of being measured again."""
    from tfsr.export.tfkeras_model import _activation_ranges, copy_activation_ranges
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(trained)
    assert {c.activation for c in spec.cells} == {"tanh"}
    model = load_trained(trained, spec)
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=16, batch_size=8, seed=0)
    patches = tflite.representative_patches(data, 32)
    qat = quantize_model(spec, model, calibration=patches, native_groups=False)
    qat = tflite.qat_finetune(qat, data, 20, 1e-4, log=lambda m: None)
    grouped = quantize_model(spec, trained_float_model(spec, qat), patches, native_groups=True)
    assert copy_activation_ranges(qat, grouped) == len(_activation_ranges(grouped)) >= 4
    path = tmp_path / "qat.tflite"
    path.write_bytes(tflite.convert(grouped, "int8_qat", patches))
    psnr_simulated = evaluate(KerasUpscaler(qat, scale=2), val_pairs, 2)["mean"]["psnr"]
    psnr_int8 = evaluate(TFLiteUpscaler(str(path)), val_pairs, 2)["mean"]["psnr"]
    assert abs(psnr_simulated - psnr_int8) < 0.02, (psnr_simulated, psnr_int8)


def test_export_cli_qat_fine_tunes_and_converts(trained, tmp_path):
    out = tmp_path / "m_qat.tflite"
    result = run_tool("export", f"--model={trained}", "--quantize=int8_qat", "--qat_steps=30", f"--out={out}",
                      "--representative_samples=40", "--batch_size=8", "--qat_learning_rate=1e-5")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "QAT step 30/30" in result.stdout
    # The kept ranges are the candidate set with the best PSNR on whole training images.
    chosen = next(x for x in result.stdout.splitlines() if x.startswith("activation ranges: "))
    kind = chosen.split(": ")[1].split(" ")[0]
    scores = dict(item.rsplit(" ", 1) for item in chosen.split("images: ")[1].removesuffix(" dB)").split(", "))
    assert set(scores) == {"trained", "minmax", "percentile", "mse"}, chosen
    assert kind == max(scores, key=lambda name: float(scores[name])), chosen
    line = next(x for x in result.stdout.splitlines() if x.startswith("PSNR:"))
    drop = float(line.split("drop")[1].split("dB")[0])
    assert drop < 0.5, line


def test_export_cli_user_errors_are_one_line(trained, tmp_path):
    cases = [
        ([f"--model={trained}", "--quantize=int4", f"--out={tmp_path}/a.tflite"], "--quantize"),
        ([f"--model={trained}", "--io_type=uint8", f"--out={tmp_path}/a.tflite"], "needs --quantize=int8"),
        ([f"--model={trained}", f"--out={tmp_path}/a.bin"], "should end in .tflite"),
        ([f"--model={tmp_path}/none.keras", f"--out={tmp_path}/a.tflite"], "no such file"),
        ([f"--model={trained}", "--format=savedmodel", "--quantize=int8", f"--out={tmp_path}/sm"], "tflite only"),
        ([f"--model={trained}", "--quantize=int8", "--patch_size=0", f"--out={tmp_path}/a.tflite"],
         "--patch_size must be positive"),
    ]
    from test_user_errors import run_cases  # all cases in one process

    for (args, message), result in zip(cases, run_cases("export", [args for args, _ in cases])):
        assert result["code"] == 2 and message in result["stderr"], (args, result["stderr"][-1500:])
        assert not result["traceback"] and "Traceback" not in result["stderr"]
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer")
    result = run_cases("evaluate", [[f"--model={junk}"]])[0]
    assert result["code"] == 2 and "cannot load TFLite model" in result["stderr"]


_SERVING_CLIENT = r"""
import base64, json, sys
import numpy as np
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
rest = json.load(open(sys.argv[2]))
out = {}
# serving_default, fed the REST body's "instances" as TF Serving does.
images = np.asarray(rest["default"]["instances"], np.uint8)
out["default_shape"] = list(model.signatures["serving_default"](images=tf.constant(images))["images"].shape)
# upscale_png: {"b64": ...} instances decode to the raw bytes.
data = [base64.b64decode(i["b64"]) for i in rest["png"]["instances"]]
png = model.signatures["upscale_png"](image_bytes=tf.constant(data))["png_bytes"].numpy()
out["png"] = [base64.b64encode(p).decode() for p in png]
try:
    model.signatures["upscale_png"](image_bytes=tf.constant([b"this is not an image"]))
except tf.errors.InvalidArgumentError as e:
    out["bad_bytes"] = e.message.splitlines()[0] if "Unknown image file format" not in e.message else "Unknown image file format"
try:
    model.signatures["serving_default"](images=tf.constant(images.astype(np.float32)))
except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
    out["bad_dtype"] = str(e).splitlines()[0]
try:
    model.signatures["serving_default"](images=tf.constant(images[0]))
except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
    out["bad_rank"] = str(e)
# Bounded: more LR pixels than --max_pixels is refused before the network runs.
try:
    model.signatures["serving_default"](images=tf.zeros([2, 40, 60, 3], tf.uint8))
except tf.errors.InvalidArgumentError as e:
    out["too_large"] = e.message
try:
    model.signatures["serving_default"](images=tf.zeros([1, 0, 8, 3], tf.uint8))
except tf.errors.InvalidArgumentError as e:
    out["no_pixels"] = e.message
out["empty_batch"] = list(model.signatures["serving_default"](images=tf.zeros([0, 20, 24, 3], tf.uint8))["images"].shape)
# Still serving after the bad requests.
out["after"] = list(model.signatures["serving_default"](images=tf.constant(images))["images"].shape)
print(json.dumps(out))
"""


def test_savedmodel_serves_both_signatures_in_a_fresh_process(trained, tmp_path, val_pairs):
    base = tmp_path / "serving"
    result = run_tool("export", f"--model={trained}", "--format=savedmodel", f"--out={base}", "--model_name=sr",
                      "--version=3", "--max_pixels=2000")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    version = base / "sr" / "3"
    assert (version / "saved_model.pb").exists()
    line = next(x for x in result.stdout.splitlines() if x.startswith("PSNR:"))
    assert abs(float(line.split("drop")[1].split("dB")[0])) < 0.05, line

    cli = subprocess.run([os.path.join(os.path.dirname(sys.executable), "saved_model_cli"), "show", "--all",
                          "--dir", str(version)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "signature_def['serving_default']" in cli.stdout and "signature_def['upscale_png']" in cli.stdout
    assert "image_bytes" in cli.stdout and "png_bytes" in cli.stdout

    lr = val_pairs[0].lr[:20, :24]
    buffer = io.BytesIO()
    Image.fromarray(lr).save(buffer, "PNG")
    rest = {  # the bodies the README shows for TF Serving's REST API
        "default": {"instances": lr[None].tolist()},
        "png": {"signature_name": "upscale_png", "instances": [{"b64": base64.b64encode(buffer.getvalue()).decode()}]},
    }
    (tmp_path / "rest.json").write_text(json.dumps(rest))
    (tmp_path / "client.py").write_text(_SERVING_CLIENT)
    proc = subprocess.run([sys.executable, str(tmp_path / "client.py"), str(version), str(tmp_path / "rest.json")],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["default_shape"] == [1, 40, 48, 3] and out["after"] == [1, 40, 48, 3]
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(out["png"][0]))))
    assert png.shape == (40, 48, 3)
    # The --out folder itself works as --model; its tiles respect max_pixels.
    upscaler = load_upscaler(str(base))
    assert (upscaler.tile + 2 * upscaler.overlap) ** 2 <= 2000
    whole = val_pairs[0].lr  # more LR pixels than one request may hold
    assert whole.shape[0] * whole.shape[1] > 2000
    tiled = upscaler.super_resolve(whole).image
    assert tiled.shape == (2 * whole.shape[0], 2 * whole.shape[1], 3)
    expected = upscaler.super_resolve(lr).image
    assert np.abs(png.astype(int) - expected.astype(int)).max() <= 1
    assert "request too large" in out["too_large"] and "max_pixels" in out["too_large"]
    assert "at least 1x1" in out["no_pixels"]
    assert out["empty_batch"] == [0, 40, 48, 3]
    assert out["bad_bytes"] == "Unknown image file format"
    assert "uint8" in out["bad_dtype"], out["bad_dtype"]  # refused by the signature, with the reason
    assert "Shape of tensor images [20,24,3] is not compatible with expected shape [?,?,?,3]" in out["bad_rank"]
