import dataclasses
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

from tfsr.arch import ArchSpec, SpecError, build_model, count, lower, zoo
from tfsr.search.space import FalsrSpace
from tfsr.search.tpsr_space import TpsrSpace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def random_specs(n, seed=0, scale=2, space=None):
    rng = np.random.default_rng(seed)
    space = space or FalsrSpace(scale=scale)
    return [space.sample(rng, name=f"{space.NAME}{i}") for i in range(n)]


def dlsr_like_spec(op="sep5", nf=12, dilated=True):
    """DLSR's derived form: distillation cells with a searched op (the
    second with ESA), a dilated and a separable cell, fused, on the anchor
    residual.  `dilated=False`
    puts plain convs where the dilated ones were."""
    spec = ArchSpec.from_dict({
        "name": f"dlsr_{op}", "scale": 2, "channels": 1,
        "stem": {"filters": nf, "kernel": 3, "activation": "linear"},
        "cells": [
            {"block": "distill", "channels": nf, "kernel": 3, "activation": "relu", "options": {"op": op}},
            {"block": "distill", "channels": nf, "kernel": 3, "activation": "prelu",
             "options": {"op": "dil3", "steps": 2, "esa": True}},
            {"block": "dilated", "channels": nf, "kernel": 3, "activation": "relu", "inputs": [1, 2]},
            {"block": "sepconv", "channels": nf, "kernel": 5, "activation": "relu"},
        ],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip
    if not dilated:
        spec.cells[1].options["op"] = "conv3"
        spec.cells[2].block = "conv"
    return spec


def _graph_conv_flops(graph):
    flops = 0
    for op in graph.get_operations():
        if op.type in ("Conv2D", "DepthwiseConv2dNative"):
            flops += tf_ops.get_stats_for_node_def(graph, op.node_def, "flops").value
        elif op.type in ("StatefulPartitionedCall", "PartitionedCall"):
            # Keras runs grouped convs on CPU inside a nested (XLA) function.
            flops += _graph_conv_flops(graph._get_function(op.get_attr("f").name).graph)
    return flops


def profiler_conv_mult_adds(model, lr_size, channels):
    """TensorFlow's own flop count of the conv ops, halved (mult-adds)."""
    fn = tf.function(lambda x: model(x, training=False))
    graph = fn.get_concrete_function(tf.TensorSpec([1, *lr_size, channels], tf.float32)).graph
    return _graph_conv_flops(graph) // 2


# TF runs a dilated conv on a padded space-to-batch grid, so its profiler
# counts more than the k*k*Cin*Cout per output pixel that the cost model
# (and the int8 CONV_2D) spends: the DLSR spec is compared without dilation.
@pytest.mark.parametrize(
    "spec", random_specs(6, seed=7) + random_specs(1, seed=3, space=TpsrSpace()) + [dlsr_like_spec(dilated=False)],
    ids=lambda s: s.name,
)
def test_cost_matches_keras_params_and_tf_profiler(spec):
    model = build_model(spec)
    cost = count(spec, (23, 17))
    assert cost.params == model.count_params()
    assert cost.mult_adds == profiler_conv_mult_adds(model, (23, 17), spec.channels)


def test_every_block_type_is_priced_exactly():
    space = FalsrSpace()
    for block in space.blocks:
        for residual in (False, True):
            spec = ArchSpec.from_dict(
                {
                    "scale": 3,
                    "cells": [
                        {"block": block, "channels": 48, "kernel": 3, "repeats": 2, "residual": residual},
                        {"block": block, "channels": 16, "kernel": 1, "residual": residual, "inputs": [0, 1]},
                    ],
                }
            )
            model = build_model(spec)
            assert count(spec, (9, 11)).params == model.count_params(), block
            assert count(spec, (9, 11)).mult_adds == profiler_conv_mult_adds(model, (9, 11), 1), block


def test_pixel_attention_gates_its_input_by_a_sigmoid_of_a_1x1_conv(rng):
    spec = ArchSpec.from_dict({
        "scale": 2, "stem": {"filters": 8, "kernel": 3, "activation": "prelu"},
        "cells": [{"block": "pixel_attention", "channels": 8}],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip
    model = build_model(spec)
    for w in model.weights:
        w.assign(rng.normal(0, 0.5, w.shape).astype("float32"))
    x = rng.random((1, 9, 11, 1)).astype(np.float32)
    stem_out = keras.Model(model.input, model.get_layer("stem_prelu").output)(x)
    gate_conv = model.get_layer("cell1_r1_pa_conv")
    kernel, bias = (np.asarray(v) for v in gate_conv.weights)
    gate = 1 / (1 + np.exp(-(np.einsum("nhwc,cd->nhwd", np.asarray(stem_out), kernel[0, 0]) + bias)))
    gated = keras.Model(model.input, model.get_layer("cell1_r1_pa_out").output)(x)
    np.testing.assert_allclose(np.asarray(gated), np.asarray(stem_out) * gate, atol=1e-5)
    cost = count(spec, (9, 11))
    assert cost.params == model.count_params()
    assert cost.mult_adds == profiler_conv_mult_adds(model, (9, 11), 1)
    with pytest.raises(SpecError, match="gates in place"):
        ArchSpec.from_dict({**spec.to_dict(), "cells": [{"block": "pixel_attention", "channels": 16}]})


def test_fsrcnn_matches_published_figures():
    cost = count(zoo.fsrcnn(2), (480, 480))
    assert round(cost.mult_adds / 1e9, 1) == 6.0  # "6.0G" in FALSR/FSRCNN tables
    # Published 12K counts the 12,464 weights; we also count biases and PReLU slopes.
    assert 12_000 <= cost.params < 13_000
    assert cost.params == build_model(zoo.fsrcnn(2)).count_params()


def test_espcn_params():
    # 5x5x1x64 + 3x3x64x32 + 3x3x32x4, plus biases.
    assert count(zoo.espcn(2)).params == 1664 + 18464 + 1156


@pytest.mark.parametrize("spec", [zoo.fsrcnn(3), zoo.espcn(4)] + random_specs(2, seed=3, scale=4), ids=lambda s: s.name)
def test_models_take_any_lr_size(spec):
    model = build_model(spec)
    for h, w in ((7, 13), (32, 20)):
        out = model(np.zeros((2, h, w, spec.channels), np.float32))
        assert out.shape == (2, h * spec.scale, w * spec.scale, spec.channels)


def test_spec_json_round_trip(tmp_path):
    for spec in random_specs(3) + random_specs(2, space=TpsrSpace()) + [zoo.fsrcnn(2)]:
        path = tmp_path / "spec.json"
        spec.save(path)
        again = ArchSpec.load(path)
        assert again.to_dict() == spec.to_dict()
        assert json.loads(spec.to_json()) == spec.to_dict()
        # Fields at their defaults stay out of the file, so older spec files read back unchanged.
        merges = {c.get("merge") for c in spec.to_dict()["cells"]}
        assert merges == ({"sum"} if spec.name.startswith("tpsr") else {None})


def test_a_searched_builtin_serves_every_scale_with_its_body():
    from tfsr.errors import UserError

    assert "searched_2.3g" in zoo.SEARCHED
    x2, x4 = zoo.resolve("searched_2.3g", 2), zoo.resolve("searched_2.3g", 4)
    assert (x2.scale, x4.scale) == (2, 4) and x2.cells == x4.cells and x2.stem == x4.stem
    assert count(x2).params == 10_100  # ECBSR-M4C16's deployed size
    # Only the tail grows: its 3x3 conv writes 16 channels at x4 instead of 4.
    assert count(x4).params - count(x2).params == 9 * 16 * (16 - 4) + (16 - 4)
    with pytest.raises(UserError, match="searched_2.3g"):
        zoo.resolve("searched_9g", 2)


def test_fingerprint_is_the_architecture_not_how_its_links_are_written():
    spec = ArchSpec.load(os.path.join(ROOT, "tfsr", "arch", "searched", "searched_2.3g.json"))
    assert spec.cells[0].inputs == [0] and spec.upsampler.inputs == [1]  # the default links, written out
    implicit = ArchSpec.from_dict(spec.to_dict())
    implicit.cells[0].inputs, implicit.upsampler.inputs = None, None
    implicit.name = "another name"
    assert implicit.fingerprint() == spec.fingerprint()
    assert lower(implicit).ops == lower(spec).ops  # the same network
    # A link that is not the default changes the network and the hash.
    chain = ArchSpec.from_dict(spec.to_dict())
    chain.cells.append(dataclasses.replace(chain.cells[0], inputs=None))
    chain.upsampler.inputs = None
    dense = ArchSpec.from_dict(chain.to_dict())
    dense.cells[1].inputs = [0, 1]  # the stem's output and the first cell's, concatenated
    assert lower(dense).ops != lower(chain).ops
    assert dense.fingerprint() != chain.fingerprint()


@pytest.mark.parametrize(
    "patch,message",
    [
        ({"scale": 5}, "scale"),
        ({"channels": 2}, "channels"),
        ({"cells": [{"block": "mystery", "channels": 16}]}, "unknown block type 'mystery'"),
        ({"cells": [{"block": "conv", "channels": 0}]}, "cells[0].channels"),
        ({"cells": [{"block": "conv", "channels": 16, "inputs": [1]}]}, "cells[0].inputs"),
        ({"cells": [{"block": "group_conv4", "channels": 18}]}, "divisible by groups=4"),
        ({"upsampler": {"type": "nearest"}}, "unknown upsampler"),
        ({"stem": {"filters": 32, "activation": "swish"}}, "stem.activation"),
        ({"colour": 1}, "unknown spec field"),
        ({"cells": [{"block": "conv", "channels": 16, "merge": "max"}]}, "cells[0].merge"),
        ({"cells": [{"block": "conv", "channels": 16}, {"block": "conv", "channels": 8, "inputs": [0, 1], "merge": "sum"}]},
         "nodes [0, 1] have [32, 16] channels"),
        ({"upsampler": {"merge": "sum", "inputs": [0, 1]}}, "upsampler.merge 'sum' needs inputs of one width"),
    ],
)
def test_validation_names_the_bad_field(patch, message):
    data = {"scale": 2, "cells": [{"block": "conv", "channels": 16}], **patch}
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ArchSpec.from_dict(data)


def test_saved_model_reloads_with_identical_output(tmp_path, rng):
    spec = random_specs(1, seed=11)[0]
    model = build_model(spec)
    x = rng.random((1, 10, 12, 1)).astype(np.float32)
    path = str(tmp_path / "g.keras")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again(x), model(x), atol=1e-6)


JAX_SCRIPT = r"""
import os, sys, json
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras
from tfsr.arch import ArchSpec, build_model
spec = ArchSpec.from_dict(json.loads(sys.argv[1]))
model = build_model(spec)
model.compile(optimizer="adam", loss="mae")
x = np.random.default_rng(0).random((4, 12, 12, 1)).astype("float32")
y = np.random.default_rng(1).random((4, 12 * spec.scale, 12 * spec.scale, 1)).astype("float32")
model.fit(x, y, epochs=1, batch_size=2, verbose=0)
assert keras.backend.backend() == "jax"
model.save(sys.argv[2])
np.save(sys.argv[3], np.asarray(model(x[:1])))
"""


@pytest.mark.parametrize("spec", random_specs(1, seed=5) + [zoo.ecbsr(2, m=1, c=8), zoo.sesr(2, m=1, f=8, p=32),
                                  dlsr_like_spec("dil5", nf=8)], ids=lambda s: s.name)  # fmt: skip
def test_generator_trains_under_jax_and_reloads_under_tensorflow(spec, tmp_path):
    pytest.importorskip("jax", reason="JAX is not installed (pip install 'tfsr[jax]')")
    path, out = str(tmp_path / "jax.keras"), str(tmp_path / "out.npy")
    result = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT, spec.to_json(), path, out],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    model = keras.models.load_model(path)
    x = np.random.default_rng(0).random((1, 12, 12, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.load(out), atol=1e-4)


def test_resize_conv_costs_what_the_sub_pixel_conv_costs_with_scale_squared_fewer_weights():
    import dataclasses

    subpixel = random_specs(1, seed=3, space=TpsrSpace())[0]
    resize = dataclasses.replace(subpixel, upsampler=dataclasses.replace(subpixel.upsampler, type="resize_conv"))
    resize.validate()
    model = build_model(resize)
    assert model(np.zeros((1, 7, 9, 3), np.float32)).shape == (1, 28, 36, 3)
    a, b = count(subpixel, (18, 32)), count(resize, (18, 32))
    assert a.mult_adds == b.mult_adds == profiler_conv_mult_adds(model, (18, 32), 3)
    tail_subpixel, tail_resize = 16 * 48 * 9 + 48, 16 * 3 * 9 + 3  # 16 channels to 3 * 16 or to 3
    assert a.params - b.params == tail_subpixel - tail_resize and b.params == model.count_params()


def test_progressive_resize_conv_steps_by_two_and_has_no_flat_tiles():
    import dataclasses

    from tfsr.arch.upsamplers.progressive_resize_conv import factor_steps

    assert [factor_steps(s) for s in (2, 3, 4, 8)] == [[2], [3], [2, 2], [2, 2, 2]]
    subpixel = random_specs(1, seed=3, space=TpsrSpace())[0]
    progressive = dataclasses.replace(
        subpixel, upsampler=dataclasses.replace(subpixel.upsampler, type="progressive_resize_conv")
    )
    progressive.validate()
    model = build_model(progressive)
    a, b = count(subpixel, (18, 32)), count(progressive, (18, 32))
    lr_pixels = 18 * 32
    # The sub-pixel conv's 9*16*48 per LR pixel, against 9*16*16 at x2 and 9*16*3 at x4.
    assert a.mult_adds - b.mult_adds == lr_pixels * (9 * 16 * 48 - 9 * 16 * 16 * 4 - 9 * 16 * 3 * 16)
    assert b.mult_adds == profiler_conv_mult_adds(model, (18, 32), 3) and b.params == model.count_params()
    # A one-step resize-conv (nearest x4, 3x3) computes the two middle pixels of every 4x4
    # tile from the same window contents; the x2 steps never repeat a pixel.
    x = np.random.default_rng(0).random((1, 9, 9, 3)).astype("float32")
    sr = np.asarray(model(x))[0]
    assert np.abs(sr[:, 1::4] - sr[:, 2::4]).min() > 0
    resize = build_model(dataclasses.replace(subpixel, upsampler=dataclasses.replace(subpixel.upsampler,
                                                                                      type="resize_conv")))
    # Without the global skip (which is bilinear), the one-step tile middles are equal.
    tiles = np.asarray(keras.Model(resize.input, resize.get_layer("up_conv").output)(x))[0]
    np.testing.assert_allclose(tiles[:, 1::4], tiles[:, 2::4], atol=1e-6)
