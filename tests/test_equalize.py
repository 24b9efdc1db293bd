"""Channel ranges equalized before int8 (`tfsr.arch.equalize`): exact in
float, every rescaled activation's channels then span the same range, and
the int8 file of a net with lopsided channels loses less."""

import re

import keras
import numpy as np
import pytest

from test_prelu_split import _with_residual_prelu
from tfsr.arch import ArchSpec, build_model, lower, zoo
from tfsr.arch.equalize import MAX_SCALE, channel_scales, equalizable_acts, equalize_model, equalize_weights


def _lopsided(model, spec, rng):
    """Random weights, then each equalizable activation's channels grown by
    1 to 30x in the producer and shrunk as much in the readers: the same
    function (as in a trained net, a narrow channel still matters), lopsided
    ranges."""
    for w in model.weights:
        std = 0.5 if len(w.shape) < 2 else 1.0 / np.sqrt(np.prod(w.shape[:-1]))
        w.assign(rng.normal(0, std, w.shape).astype("float32"))
    graph = lower(spec, deployed=True)
    weights = {layer.name: layer.get_weights() for layer in model.layers if layer.weights}
    # equalize_weights scales channel c by (widest / max_abs[c]): here by a random 1 to 30.
    factors = {n: rng.uniform(1 / 30, 1, graph[n].channels) for n in equalizable_acts(graph)}
    lopsided = equalize_weights(graph, weights, factors)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(lopsided[layer.name])


def _relu_chain():
    return ArchSpec.from_dict({
        "name": "relu_chain", "scale": 2, "channels": 1,
        "stem": {"filters": 12, "kernel": 3, "activation": "relu"},
        "cells": [{"block": "conv", "channels": 12, "kernel": 3, "repeats": 3, "activation": "relu"}],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip


@pytest.mark.parametrize(
    "spec, count",
    # FSRCNN: all 7 PReLUs (the last feeds its transposed conv); ECBSR: stem + 4; the
    # residual net: only the middle one (the others feed an add); ReLU chain: stem + 3.
    [(zoo.fsrcnn(2), 7), (zoo.ecbsr(2), 5), (_with_residual_prelu(), 1), (_relu_chain(), 4), (zoo.espcn(2), 0)],
    ids=["fsrcnn", "ecbsr", "residual", "relu", "espcn_tanh"],
)
def test_equalized_model_computes_the_same_function_with_even_channel_ranges(spec, count, rng):
    graph = lower(spec, deployed=True)
    names = equalizable_acts(graph)
    assert len(names) == count, names
    model = build_model(spec, deployed=True)
    _lopsided(model, spec, rng)
    patches = [rng.random((1, 12, 12, 1)).astype("float32") for _ in range(8)]
    equalized = equalize_model(model, spec, patches)
    x = rng.random((1, 17, 23, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(equalized(x)), np.asarray(model(x)), rtol=1e-4, atol=1e-5)
    for name in names:
        before = keras.Model(model.inputs[0], model.get_layer(name).output)
        after = keras.Model(equalized.inputs[0], equalized.get_layer(name).output)
        spans = [np.abs(np.asarray(m(np.concatenate(patches)))).reshape(-1, graph[name].channels).max(0)
                 for m in (before, after)]  # fmt: skip
        live = spans[0] > 0
        assert spans[0][live].min() < 0.5 * spans[0].max()  # lopsided before
        expected = np.minimum(spans[0].max(), spans[0] * MAX_SCALE)
        np.testing.assert_allclose(spans[1][live], expected[live], rtol=1e-3)


def test_scales_leave_dead_channels_alone_and_are_capped():
    np.testing.assert_allclose(channel_scales([2.0, 1.0, 0.0, 1e-6]), [1.0, 2.0, 1.0, MAX_SCALE])
    np.testing.assert_allclose(channel_scales([0.0, 0.0]), [1.0, 1.0])


def test_tfsr_export_int8_keeps_the_best_of_its_float_forms(tmp_path):
    # A real trained net (the zoo's x2) on real images: the file it writes is
    # the one whose PSNR on the training images is the higher, and says so.
    from tfsr import samples
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export
    from tfsr.export.tflite import best_calibrated_int8_model, representative_patches, training_images
    from tfsr.inference import TFLiteUpscaler
    from tfsr.runs import load_trained, spec_for_model

    path = "tfsr/pretrained/x2/model.keras"
    spec = spec_for_model(path)
    model = load_trained(path, spec)
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=24, batch_size=16, seed=0)
    calibration = representative_patches(data, 32)
    pairs = training_images(data, 3, 96)
    _, best, psnr = best_calibrated_int8_model(model, spec, calibration, pairs)
    forms = ("as trained", "equalized", "rounded", "equalized, rounded")
    assert set(psnr) == {f"minmax, {form}" for form in forms} and psnr[best] == max(psnr.values())
    assert psnr["minmax, as trained"] != psnr["minmax, equalized"]  # equalizing changed the file
    # tfsr-export's default tries every range method too, and keeps the file that scores highest.
    lines = []
    out = str(tmp_path / "x2_int8.tflite")
    export(model, spec, "tflite", out, quantize="int8", train_data=data, representative_samples=32, log=lines.append)
    (chosen,) = [line for line in lines if line.startswith("activation ranges: ")]
    kept = chosen[len("activation ranges: "):].split(" (PSNR on ")[0]
    named = re.findall(r"(\w+(?:, (?:as trained|equalized|rounded))+) ([\d.]+)", chosen)
    psnr = {name: float(value) for name, value in named}
    methods = ("minmax", "percentile", "mse")
    unrounded = {f"{m}, {form}" for m in methods for form in forms[:2]}
    winner = max(unrounded, key=psnr.get).split(", ")[0]  # the rounded forms: with the winning method only
    assert set(psnr) == unrounded | {f"{winner}, {form}" for form in forms[2:]}, chosen
    assert len(set(psnr.values())) > 2 and psnr[kept] == max(psnr.values()), chosen
    assert evaluate(TFLiteUpscaler(out), pairs, 2)["mean"]["psnr"] > 30
