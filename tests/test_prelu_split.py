"""PReLUs split into ReLUs for int8 (`tfsr.arch.prelu_split`): exact in
float, in Keras 3 and in the tf_keras rebuild, and a PRELU-free int8 file."""

import numpy as np
import pytest

from test_export import every_op_specs
from tfsr.arch import ArchSpec, build_model, lower, zoo
from tfsr.arch.builder import model_of_graph
from tfsr.arch.cost import count, count_graph
from tfsr.arch.prelu_split import int8_graph, split_prelu_graph, split_prelu_weights, splittable_prelus
from tfsr.arch.reparam import deployed_weights


def _randomize(model, rng):
    # Slopes of both signs and far from 0 and 1, so a slope applied to the wrong
    # channel, or with the wrong sign, shows.
    for w in model.weights:
        std = 0.5 if len(w.shape) < 2 else 1.0 / np.sqrt(np.prod(w.shape[:-1]))
        w.assign(rng.normal(0, std, w.shape).astype("float32"))


def _split_keras_model(spec, model):
    graph = lower(spec, deployed=True)
    weights = {layer.name: deployed_weights(layer) for layer in model.layers if layer.weights}
    split = model_of_graph(split_prelu_graph(graph), "split")
    rewritten = split_prelu_weights(graph, weights)
    for layer in split.layers:
        if layer.weights:
            layer.set_weights(rewritten[layer.name])
    assert {layer.name for layer in split.layers if layer.weights} == set(rewritten)
    return split


def _with_residual_prelu():
    """Three PReLUs, all split: the stem's feeds a conv and the cell's
    residual add, the last one that add, and the add only the tail conv
    (it becomes a concat)."""
    return ArchSpec.from_dict({
        "name": "residual_prelu", "scale": 2, "channels": 1,
        "stem": {"filters": 8, "kernel": 3, "activation": "prelu"},
        "cells": [{"block": "conv", "channels": 8, "kernel": 3, "repeats": 2, "residual": True, "activation": "prelu"}],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip


def _with_chained_residuals():
    """Two residual cells: the first cell's add feeds the second's add, which
    is no conv, so neither add becomes a concat and no PReLU is split (each
    is read by an add that stays)."""
    return ArchSpec.from_dict({
        "name": "chained_residuals", "scale": 2, "channels": 1,
        "stem": {"filters": 8, "kernel": 3, "activation": "prelu"},
        "cells": [{"block": "conv", "channels": 8, "kernel": 3, "repeats": 1, "residual": True, "activation": "prelu"},
                  {"block": "conv", "channels": 8, "kernel": 3, "repeats": 1, "residual": True, "activation": "prelu"}],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip


@pytest.mark.parametrize(
    "spec, split_count",
    # FSRCNN: all 7 (the last feeds its transposed conv); ECBSR: stem + 4; SESR: all 6, the
    # stem's and the last block's through the long residual add into the tail conv.
    [(zoo.fsrcnn(2), 7), (zoo.ecbsr(2), 5), (zoo.sesr(2), 6), (_with_residual_prelu(), 3),
     (_with_chained_residuals(), 0)],
    ids=["fsrcnn", "ecbsr", "sesr", "residual", "chained"],
)
def test_split_prelus_compute_the_same_function_borders_included(spec, split_count, rng):
    graph = lower(spec, deployed=True)
    prelus = [op.name for op in graph.ops if op.kind == "act" and op.attrs["kind"] == "prelu"]
    split = splittable_prelus(graph)
    assert len(split) == split_count, (prelus, split)
    adds = [op for op in int8_graph(spec).ops if op.attrs.get("split_from") == "add"]
    if spec.name == "residual_prelu":
        assert split == ["stem_prelu", "cell1_r1_prelu", "cell1_r2_prelu"]
        assert [(op.name, op.kind, op.channels) for op in adds] == [("cell1_residual", "concat", 32)]
    assert bool(adds) == (spec.name in ("sesr_m5", "residual_prelu"))
    model = build_model(spec, deployed=True)
    _randomize(model, rng)
    x = rng.random((2, 11, 16, 1)).astype(np.float32)  # small: most pixels are near a border
    np.testing.assert_allclose(np.asarray(_split_keras_model(spec, model)(x)), np.asarray(model(x)), atol=1e-4)
    # What the split form costs: doubled channels around every split PReLU.
    kinds = {op.attrs["kind"] for op in int8_graph(spec).ops if op.kind == "act"}
    assert ("prelu" in kinds) == (len(split) < len(prelus))
    split_cost, cost = count_graph(int8_graph(spec), (11, 16)).mult_adds, count(spec, (11, 16)).mult_adds
    assert split_cost > cost if split else split_cost == cost


def test_tf_keras_rebuild_of_the_split_form_equals_the_keras3_model(rng):
    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights, quantize_model, trained_float_model

    for spec in every_op_specs() + [zoo.fsrcnn(2)]:
        model = build_model(spec)
        _randomize(model, rng)
        x = rng.random((2, 13, 17, 1)).astype(np.float32)
        tfk = copy_weights(model, build_tfkeras_model(spec, native_groups=True, split_prelu=True), spec)
        np.testing.assert_allclose(tfk(x).numpy(), np.asarray(model(x)), rtol=1e-4, atol=1e-4, err_msg=spec.name)
    # QAT trains the split form; its float weights come back out intact (FSRCNN, the last spec).
    qat = quantize_model(spec, model, native_groups=False, split_prelu=True)
    plain = trained_float_model(spec, qat, split_prelu=True)
    np.testing.assert_allclose(plain(x).numpy(), np.asarray(model(x)), rtol=1e-4, atol=1e-4)


def test_tfsr_export_splits_prelus_by_default_and_the_file_tracks_the_float_model(rng, tmp_path):
    import keras

    from conftest import run_tool
    from tfsr.inference import TFLiteUpscaler

    keras.utils.set_random_seed(0)
    spec = zoo.ecbsr(2)
    model = build_model(spec)
    model.save(str(tmp_path / "model.keras"))
    spec.save(str(tmp_path / "spec.json"))
    files = {}
    for split, flag in ((True, []), (False, ["--nosplit_prelu"])):
        files[split] = str(tmp_path / f"split_{split}.tflite")
        result = run_tool("export", f"--model={tmp_path / 'model.keras'}", "--quantize=int8", f"--out={files[split]}",
                          "--representative_samples=32", "--calibration=minmax", *flag)  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
    ops = {split: {d["op_name"] for d in TFLiteUpscaler(path).interpreter._get_ops_details()}
           for split, path in files.items()}  # fmt: skip
    assert "PRELU" in ops[False] and "PRELU" not in ops[True], ops
    x = rng.random((1, 20, 24, 1)).astype(np.float32)
    ref = np.clip(np.asarray(model(x)), 0.0, 1.0)  # the file's output is the image range
    out = TFLiteUpscaler(files[True])._run(x)
    assert np.corrcoef(out.ravel(), ref.ravel())[0, 1] > 0.99
    assert np.abs(out - ref).mean() < 0.05 * np.abs(ref).mean()
