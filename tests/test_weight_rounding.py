"""Compensated int8 weight rounding (`tfsr.export.weight_rounding`): the
patches it measures reproduce each layer, every rounded kernel sits on the
grid the int8 file uses (the file holds exactly those weights), and on a
trained net it loses less than nearest rounding."""

import keras
import numpy as np
import pytest

from tfsr import samples
from tfsr.arch import ArchSpec, build_model, lower, zoo
from tfsr.arch.prelu_split import split_prelu_weights
from tfsr.export import weight_rounding as wr


def _images(n=2, side=20, channels=5, seed=0):
    """Patches of the bundled sample images, channels made of shifted copies (real spatial statistics)."""
    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.tflite import representative_patches

    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=side, batch_size=8, seed=seed)
    x = np.concatenate(representative_patches(data, n * channels))
    return x[..., 0].reshape(n, channels, side, side).transpose(0, 2, 3, 1)


@pytest.mark.parametrize("kernel, dilation", [(1, 1), (3, 1), (3, 2), (5, 1)])
def test_conv_columns_reproduce_a_conv_borders_included(kernel, dilation):
    x = _images()
    layer = keras.layers.Conv2D(3, kernel, dilation_rate=dilation, padding="same")
    y = np.asarray(layer(x))
    w, b = layer.get_weights()
    got = wr.conv_columns(x, kernel, dilation) @ w.reshape(-1, 3) + b
    np.testing.assert_allclose(got.reshape(y.shape), y, atol=1e-5)


@pytest.mark.parametrize("kernel, stride", [(9, 2), (4, 2), (3, 2), (5, 3)])
def test_transposed_phase_columns_reproduce_a_transposed_conv(kernel, stride):
    x = _images()
    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding="same")
    layer(x)
    offset = wr.transposed_offset(x, layer)  # raises when no offset reproduces the layer
    w, b = layer.get_weights()
    phases = wr.transposed_phase_columns(x, kernel, stride, offset)
    # every tap of the dilated input is read by exactly one phase
    assert sorted(np.concatenate([index for index, _ in phases])) == list(range(kernel * kernel * 5))
    assert all(len(columns) == x[..., 0].size for _, columns in phases)  # each phase: one output pixel per input pixel


def test_compensated_row_is_on_the_grid_and_beats_nearest_on_correlated_inputs():
    rng = np.random.default_rng(0)
    x = _images(n=4, side=24, channels=3)
    a = np.concatenate([wr.conv_columns(x, 3), np.ones((x[..., 0].size, 1), np.float32)], 1).astype(np.float64)
    hessian = a.T @ a / len(a)
    row = np.append(rng.normal(0, 0.2, 27), 0.1)
    step = np.abs(row[:-1]).max() / wr.LEVELS
    rounded = wr.compensated_row(row, hessian, step)
    levels = rounded[:-1] / step
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-9)
    assert np.abs(levels).max() == pytest.approx(wr.LEVELS)  # the grid is the one the converter will compute
    nearest = np.append(np.round(row[:-1] / step) * step, row[-1])
    error = lambda r: np.mean((a @ (r - row)) ** 2)  # noqa: E731  (the output's squared error)
    assert error(rounded) < 0.5 * error(nearest)


def _mixed_spec():
    """Every layer kind the rounding handles: conv + PReLU (split in int8), dilated, depthwise, transposed."""
    return ArchSpec.from_dict({
        "name": "mixed", "scale": 2, "channels": 1,
        "stem": {"filters": 8, "kernel": 3, "activation": "prelu"},
        "cells": [{"block": "dilated", "channels": 8, "kernel": 3, "activation": "prelu"},
                  {"block": "sepconv", "channels": 8, "kernel": 3, "activation": "relu"}],
        "upsampler": {"type": "deconv", "kernel": 9},
    })  # fmt: skip


def _grid(kernel, out_axis, per_tensor):
    k = np.moveaxis(kernel, out_axis, 0).reshape(kernel.shape[out_axis], -1)
    widest = np.abs(k).max(1)
    return np.full_like(widest, widest.max()) / 127 if per_tensor else widest / 127


@pytest.mark.parametrize("quantize", ["int8", "int16x8"])
def test_file_holds_exactly_the_rounded_kernels(quantize):
    # Random weights (PReLU slopes too) on real patches; the file is read back tensor by tensor.
    # int8 converts TFMOT's fake-quant model (transposed and depthwise kernels per tensor),
    # int16x8 lets the converter quantize the weights (every kernel per output channel).
    from ai_edge_litert.interpreter import Interpreter

    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights
    from tfsr.export.tflite import calibrated_int8_model, convert, representative_patches

    spec = _mixed_spec()
    model = build_model(spec, deployed=True)
    rng = np.random.default_rng(1)
    for w in model.weights:
        w.assign(rng.uniform(0.1, 0.4, w.shape) if "prelu" in w.path else w.numpy())
    data = PatchDataset(samples.TRAIN_DIR, 2, patch_size=24, batch_size=8, seed=0)
    calibration = representative_patches(data, 8)
    converter_grid = quantize == "int16x8"
    rounded = wr.rounded_model(model, spec, calibration, converter_grid=converter_grid)
    weights = {layer.name: layer.get_weights() for layer in rounded.layers if layer.weights}
    kinds = {type(layer).__name__ for layer in rounded.layers if wr.roundable(layer)}
    assert kinds == {"Conv2D", "DepthwiseConv2D", "Conv2DTranspose"}
    for layer in rounded.layers:
        if wr.roundable(layer):
            kernel = weights[layer.name][0]
            axis = {"Conv2D": 3, "Conv2DTranspose": 2, "DepthwiseConv2D": 2}[type(layer).__name__]
            step = _grid(kernel, axis, per_tensor=type(layer).__name__ != "Conv2D" and not converter_grid)
            shape = [1] * 4
            shape[axis] = -1
            levels = kernel / step.reshape(shape)
            np.testing.assert_allclose(levels, np.round(levels), atol=1e-3, err_msg=layer.name)
    if quantize == "int8":
        data = convert(calibrated_int8_model(rounded, spec, calibration), "int8_qat", calibration)
    else:
        data = convert(copy_weights(rounded, build_tfkeras_model(spec, split_prelu=True), spec), "int16x8", calibration)
    # PReLUs split in both, so the expected kernels are the split ones; compare value sets (layout-free).
    expected = split_prelu_weights(lower(spec, deployed=True), weights)
    interpreter = Interpreter(model_content=data)
    checked = set()
    for detail in interpreter.get_tensor_details():
        scales = detail["quantization_parameters"]["scales"]
        if detail["dtype"] != np.int8 or len(detail["shape"]) != 4 or scales.size == 0:
            continue
        layers = [part.removeprefix("quant_") for part in detail["name"].split("/")]
        layer = next((name for name in layers if name in expected), None)
        if layer is None:
            continue
        try:
            q = interpreter.get_tensor(detail["index"]).astype(np.float64)
        except ValueError:  # an activation tensor, not a constant
            continue
        shape = [1] * 4
        shape[detail["quantization_parameters"]["quantized_dimension"]] = -1
        stored = np.sort((q * scales.reshape(shape)).ravel())
        want = np.sort(expected[layer][0].ravel())
        np.testing.assert_allclose(stored, want, atol=1e-6 + 1e-4 * np.abs(want).max(), err_msg=layer)
        checked.add(layer)
    assert checked == {layer.name for layer in rounded.layers if wr.roundable(layer)}, checked


def test_whole_net_output_moves_less_with_compensated_rounding_than_with_nearest():
    # Activations in float, kernels on the int8 grid: the weights' share of int8's error, on
    # bundled-image patches that H was not measured on.
    from tfsr.arch.reparam import deploy
    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.tflite import representative_patches

    spec = zoo.fsrcnn(d=16, s=8, m=2)
    model = build_model(spec, deployed=True)
    calibration = representative_patches(PatchDataset(samples.TRAIN_DIR, 2, 24, 8, seed=0), 16)
    held_out = np.concatenate(representative_patches(PatchDataset(samples.TRAIN_DIR, 2, 24, 8, seed=1), 16))
    rounded = wr.rounded_model(model, spec, calibration)
    nearest = wr.round_to_nearest_in_place(deploy(model, spec))
    reference = np.asarray(model(held_out))
    error = {name: np.mean((np.asarray(m(held_out)) - reference) ** 2) for name, m in
             (("compensated", rounded), ("nearest", nearest))}  # fmt: skip
    assert error["compensated"] < 0.5 * error["nearest"], error
