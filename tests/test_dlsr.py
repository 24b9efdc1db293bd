"""DLSR's space: candidate costs from the cost model, a cost penalty with a
real gradient, and the derivation of an ArchSpec from alpha and beta."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tfsr.arch import build_model, count
from tfsr.search.dlsr import (
    DlsrSpace,
    candidate_mult_adds,
    cost_penalty,
    derive,
    derive_within,
    expected_mult_adds,
)

SPACE = DlsrSpace(nf=12, blocks=4)
LR = (36, 64)


def test_candidate_costs_are_the_cost_models():
    costs = dict(zip(SPACE.candidates, candidate_mult_adds(SPACE, LR)))
    nf, pixels = SPACE.nf, LR[0] * LR[1]
    assert costs["conv3"] == 9 * nf * nf * pixels
    assert costs["dil3"] == costs["conv3"]  # a dilated 3x3 costs a 3x3
    assert costs["sep5"] == (25 * nf + nf * nf) * pixels  # depthwise 5x5 + pointwise
    assert costs["conv1"] < costs["sep3"] < costs["conv3"] < costs["conv5"] < costs["conv7"]


@pytest.mark.parametrize("esa", [False, True])
def test_expected_cost_of_a_one_hot_alpha_is_the_derived_networks_cost(esa):
    space = dataclasses.replace(SPACE, esa=esa)
    rng = np.random.default_rng(0)
    for _ in range(3):
        choice = rng.integers(len(space.candidates), size=space.steps)
        one_hot = np.eye(len(space.candidates))[choice]
        spec = derive(space, one_hot)
        assert all(c.options.get("esa", False) == esa for c in spec.cells if c.block == "distill")
        expected = float(expected_mult_adds(space, 60.0 * one_hot, LR))  # softmax of it is one-hot
        assert expected == pytest.approx(count(spec, LR).mult_adds, rel=1e-6)
        assert count(spec, LR).params == build_model(spec).count_params()


def test_the_penalty_has_a_gradient_toward_cheaper_ops():
    costs = candidate_mult_adds(SPACE, LR)
    alpha = tf.Variable(np.random.default_rng(1).normal(0, 0.5, SPACE.alpha_shape).astype(np.float32))
    with tf.GradientTape() as tape:
        penalty = cost_penalty(SPACE, alpha, LR)
    grad = tape.gradient(penalty, alpha).numpy()
    assert np.abs(grad).min() > 0
    # d E[c] / d alpha_k = p_k (c_k - E_p[c]): up for ops dearer than the mix, down for cheaper ones.
    p = tf.nn.softmax(alpha, axis=-1).numpy()
    mean = (p * costs).sum(-1, keepdims=True)
    np.testing.assert_array_equal(np.sign(grad), np.sign(costs - mean))
    # Descending it lowers the expected cost and favours the cheapest op.
    before = float(penalty)
    alpha.assign_sub(0.5 * grad / np.abs(grad).max())
    assert float(cost_penalty(SPACE, alpha, LR)) < before
    cheapest = int(np.argmin(costs))
    assert (tf.nn.softmax(alpha, axis=-1).numpy()[:, cheapest] > p[:, cheapest]).all()


def test_with_a_ceiling_the_penalty_counts_only_the_excess():
    alpha = tf.Variable(np.zeros(SPACE.alpha_shape, np.float32))
    expected = float(expected_mult_adds(SPACE, alpha, LR))
    for ceiling, free in ((expected * 1.1, True), (expected * 0.9, False)):
        with tf.GradientTape() as tape:
            penalty = cost_penalty(SPACE, alpha, LR, max_mult_adds=ceiling)
        grad = tape.gradient(penalty, alpha).numpy()
        if free:  # under the ceiling: no cost term, no push toward cheap ops
            assert float(penalty) == 0 and not grad.any()
        else:
            assert float(penalty) == pytest.approx((expected - ceiling) / 1e9, rel=1e-5) and grad.any()


def test_derivation_under_a_ceiling_switches_the_ops_alpha_cares_least_about():
    alpha = np.zeros(SPACE.alpha_shape)
    alpha[:, SPACE.candidates.index("conv7")] = [3.0, 0.5, 1.0]  # step 2 prefers conv7 least
    full = derive(SPACE, alpha)
    one_cheaper = derive(SPACE, np.eye(len(SPACE.candidates))[[SPACE.candidates.index(o) for o in
                                                               ("conv7", "conv1", "conv7")]])  # fmt: skip
    ceiling = count(one_cheaper, LR).mult_adds
    assert count(full, LR).mult_adds > ceiling
    spec = derive_within(SPACE, alpha, None, ceiling, LR)
    assert count(spec, LR).mult_adds <= ceiling
    ops = spec.cells[0].options["op"].split(",")
    assert ops[0] == ops[2] == "conv7" and ops[1] != "conv7"  # only step 2 gave up its op
    # A ceiling under the cheapest ops cannot be met.
    cheapest = derive(SPACE, np.eye(len(SPACE.candidates))[[SPACE.candidates.index("conv1")] * SPACE.steps])
    with pytest.raises(ValueError, match="cheapest"):
        derive_within(SPACE, alpha, None, count(cheapest, LR).mult_adds - 1, LR)


def test_derivation_follows_alpha_and_beta():
    alpha = np.zeros(SPACE.alpha_shape)
    for step, op in enumerate(("sep5", "dil3", "conv1")):
        alpha[step, SPACE.candidates.index(op)] = 1.0
    beta = [np.array([0.9, 0.1]), np.array([0.5, 0.1, 0.7])]  # blocks 3 and 4
    spec = derive(SPACE, alpha, beta)
    distill = [c for c in spec.cells if c.block == "distill"]
    assert len(distill) == SPACE.blocks and all(c.options["op"] == "sep5,dil3,conv1" for c in distill)
    # Block 3 fuses blocks 1 and 2 (its only choices); block 4 the two with the largest beta: 1 and 3.
    block_nodes = [i + 1 for i, c in enumerate(spec.cells) if c.block == "distill"]
    fusers = [c for c in spec.cells if c.block == "conv" and c.kernel == 1 and c.inputs and len(c.inputs) == 2]
    assert fusers[0].inputs == [block_nodes[0], block_nodes[1]]
    assert fusers[1].inputs == [block_nodes[0], block_nodes[2]]
    y = build_model(spec)(np.zeros((1, 10, 12, 1), np.float32))
    assert y.shape == (1, 20, 24, 1)


def test_a_penalty_weight_sweep_gives_cheaper_derived_networks():
    """The search end to end on the bundled images (a few steps, a small
    space): the heavier the cost term, the cheaper what it derives."""
    import keras

    from tfsr import samples
    from tfsr.data.pipeline import PatchDataset
    from tfsr.search.dlsr_supernet import search

    space = DlsrSpace(nf=8, blocks=3, candidates=("conv1", "sep3", "conv7"))  # small: tracing dominates
    weights_data = PatchDataset(samples.TRAIN_DIR, 2, 16, 8, seed=0)
    arch_data = PatchDataset(samples.VAL_DIR, 2, 16, 8, seed=1)  # held out from the weight updates
    expected, derived = [], []
    for penalty in (0.0, 30.0):
        keras.utils.set_random_seed(0)
        model = search(space, weights_data.dataset(), arch_data.dataset(), steps=10, penalty_weight=penalty,
                       phase_steps=10, patch_size=16, log=lambda m: None)  # fmt: skip
        expected.append(float(expected_mult_adds(space, np.asarray(model.alpha), (360, 640))))
        derived.append(count(model.derive(), (360, 640)).mult_adds)
        assert count(model.derive(), (1, 1)).params == build_model(model.derive()).count_params()
    # (Adam's steps are sign-like: any weight at which the cost term dominates moves alpha as 30 does.)
    assert expected[0] > expected[1] and derived[0] > derived[1], (expected, derived)


def test_the_search_tool_writes_a_spec_and_resumes(tmp_path):
    from conftest import run_tool

    from tfsr.arch import ArchSpec

    tiny = ["--config.dlsr.nf=4", "--config.dlsr.blocks=3", "--config.dlsr.candidates=('conv1','sep3')",
            "--config.dlsr.phase_steps=2", "--config.dlsr.warmup=0", "--config.dlsr.batch_size=4",
            "--config.dlsr.patch_size=12", "--config.dlsr.activation=leaky_relu", "--config.dlsr.esa=True", "--config.scale=3", f"--workdir={tmp_path}"]  # fmt: skip
    # The first run in this process (as the tool runs it), the resumed one through the tool.
    from tfsr.config import dlsr_config
    from tfsr.search.dlsr_run import run_dlsr_search

    cfg = dlsr_config()
    cfg.scale = 3  # (x2 is configs/dlsr_x2.py's; any scale searches the same way)
    cfg.dlsr.update({"nf": 4, "blocks": 3, "candidates": ("conv1", "sep3"), "phase_steps": 2, "warmup": 0,
                     "batch_size": 4, "patch_size": 12, "search_steps": 2, "activation": "leaky_relu", "esa": True})  # fmt: skip
    run_dlsr_search(cfg, str(tmp_path), log=lambda m: None)
    spec = ArchSpec.load(str(tmp_path / "spec.json"))
    assert [c.block for c in spec.cells].count("distill") == 3 and spec.scale == 3
    distill = [c for c in spec.cells if c.block == "distill"]
    assert {c.activation for c in distill} == {"leaky_relu"} and all(c.options["esa"] for c in distill)
    assert (tmp_path / "alpha.png").stat().st_size > 0 and (tmp_path / "links.png").stat().st_size > 0
    # The checkpoint holds both optimizers' moments: a fresh supernet restores them exactly.
    from tfsr.search.dlsr import DlsrSpace
    from tfsr.search.dlsr_run import load_checkpoint
    from tfsr.search.dlsr_supernet import build_supernet, make_optimizers

    d = cfg.dlsr
    fresh = build_supernet(DlsrSpace(scale=3, nf=4, blocks=3, candidates=("conv1", "sep3"), esa=True), 12)
    optimizers = make_optimizers()
    state = load_checkpoint(str(tmp_path / "checkpoint.npz"), fresh, optimizers)
    assert state["done"] == 2 and d.search_steps == 2
    assert [int(opt.iterations.numpy()) for opt in optimizers] == [2, 2]
    moments = [v for v in optimizers[1].variables if "momentum" in v.path]
    assert moments and all(np.abs(np.asarray(m)).max() > 0 for m in moments)
    # A longer run in the same folder continues from the checkpoint.
    second = run_tool("search_dlsr", "--config.dlsr.search_steps=4", *tiny)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming the DLSR search at step 2 of 4" in second.stdout
    assert "[dlsr] step 2/" not in second.stdout and "[dlsr] step 4/4" in second.stdout


JAX_SEARCH = r"""
import sys
import numpy as np, keras
from tfsr.search.dlsr import DlsrSpace
from tfsr.search.dlsr_supernet import search
assert keras.backend.backend() == "jax"
space = DlsrSpace(nf=4, blocks=3, candidates=("conv1", "sep3", "dil3"), activation="leaky_relu", esa=True)
rng = np.random.default_rng(0)
def batches():
    while True:
        hr = rng.random((4, 24, 24, 1)).astype("float32")
        yield hr[:, ::2, ::2], hr
# A heavy cost term and a fast architecture optimizer: two steps must favour the cheapest op.
model = search(space, batches(), batches(), steps=4, phase_steps=2, penalty_weight=100.0, arch_lr=0.05,
               patch_size=12, log=print)
np.save(sys.argv[2], np.asarray(model.alpha))
model.derive().save(sys.argv[1])
"""


def test_the_supernet_search_runs_under_jax(tmp_path):
    """The GPU machine trains with Keras-on-JAX: the supernet (ESA, leaky_relu)
    searches there, and what it derives builds under TensorFlow."""
    import os
    import subprocess
    import sys

    pytest.importorskip("jax", reason="JAX is not installed (pip install 'tfsr[jax]')")
    from tfsr.arch import ArchSpec

    spec_path, alpha_path = str(tmp_path / "spec.json"), str(tmp_path / "alpha.npy")
    result = subprocess.run([sys.executable, "-c", JAX_SEARCH, spec_path, alpha_path], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "KERAS_BACKEND": "jax"})  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[dlsr] step 4/4" in result.stdout
    # The cost term's gradient reached alpha: every step now prefers conv1, the cheapest candidate.
    alpha = np.load(alpha_path)
    assert (np.argmax(alpha, axis=-1) == 0).all() and alpha[:, 0].min() > 0.05, alpha
    spec = ArchSpec.load(spec_path)
    assert spec.cells[0].options["op"] == "conv1,conv1,conv1"
    y = build_model(spec)(np.zeros((1, 9, 11, 1), np.float32))
    assert y.shape == (1, 18, 22, 1)


def test_the_cost_term_can_count_a_device_profiles_predicted_ms():
    """On a device where 1x1 convs are slow (a made-up profile), the latency term prefers
    conv3 to conv1, which mult-adds would not; its expectation is exact for one-hot alphas."""
    import keras

    from tfsr.latency_profile import FEATURES, LatencyProfile, PredictedLatency
    from tfsr.search.dlsr import ExpectedCost

    coefficients = dict.fromkeys(FEATURES, 0.1)
    coefficients.update(conv_1x1=500.0, conv_kxk=5.0)  # ms per G mult-adds
    profile = LatencyProfile((36, 64), 1, {"name": "made up"}, [], [coefficients[f] for f in FEATURES])
    space = DlsrSpace(nf=8, blocks=3, candidates=("conv1", "conv3", "sep3"))
    latency = ExpectedCost(space, cost_of=PredictedLatency(profile), unit=1.0, unit_name="ms")
    mult_adds = ExpectedCost(space, LR)
    assert space.candidates[int(np.argmin(latency.candidate_costs))] == "conv3"
    assert space.candidates[int(np.argmin(mult_adds.candidate_costs))] == "conv1"
    for choice in ([0, 1, 2], [2, 2, 1], [1, 0, 0]):
        one_hot = np.eye(3)[choice]
        assert float(latency(60.0 * one_hot)) == pytest.approx(profile.predict(derive(space, one_hot)), rel=1e-4)
    # One gradient step on the expected ms moves weight towards conv3, away from conv1.
    alpha = keras.Variable(np.zeros(space.alpha_shape, np.float32))
    with tf.GradientTape() as tape:
        cost = latency(alpha)
    step = -np.asarray(tape.gradient(cost, alpha))
    assert (step[:, 1] > 0).all() and (step[:, 0] < 0).all()
