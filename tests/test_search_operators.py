import keras_tuner
import numpy as np
import pytest

from tfsr.arch import build_model, count
from tfsr.search import operators
from tfsr.search.controller import MutationPolicy
from tfsr.errors import UserError
from tfsr.search.space import FalsrSpace

SPACE = FalsrSpace(min_cells=2, max_cells=6)


def test_crossover_and_mutation_only_make_valid_specs_of_the_space():
    rng = np.random.default_rng(0)
    population = [SPACE.sample(rng) for _ in range(12)]
    policy = MutationPolicy(SPACE)
    for k in range(150):
        a, b = population[k % 12], population[(k * 5 + 1) % 12]
        child = operators.crossover(SPACE, a, b, rng)
        mode = ("random", "flops", "params")[k % 3]
        child = operators.mutate(SPACE, child, rng, mode=mode, lr_size=(32, 32))
        cell, gene, value, _ = policy.propose(rng, len(child.cells))
        child = operators.apply_cell_action(SPACE, child, cell, gene, value)
        child.validate()
        assert SPACE.contains(child), child.to_dict()
    model = build_model(child)  # the last one builds and prices exactly
    assert count(child, (8, 8)).params == model.count_params()


def test_mutation_changes_something():
    rng = np.random.default_rng(1)
    spec = SPACE.sample(rng)
    changed = sum(operators.mutate(SPACE, spec, rng).to_dict() != spec.to_dict() for _ in range(40))
    assert changed >= 30  # a link flip can occasionally hit a mandatory link


def test_flops_roulette_targets_the_costliest_cell():
    rng = np.random.default_rng(2)
    spec = SPACE.make_spec(
        [SPACE.random_cell(rng, i) for i in range(3)], [3], name="t"
    )
    spec.cells[0].channels, spec.cells[0].repeats, spec.cells[0].block = 64, 4, "conv"
    spec.cells[1].channels, spec.cells[1].repeats, spec.cells[1].block = 16, 1, "conv"
    spec.cells[2].channels, spec.cells[2].repeats, spec.cells[2].block = 16, 1, "conv"
    hits = np.zeros(3)
    for _ in range(200):
        child = operators.mutate(SPACE, spec, rng, mode="flops")
        for i in range(min(3, len(child.cells))):
            a, b = child.cells[i], spec.cells[i]
            if (a.block, a.channels, a.kernel, a.residual, a.repeats) != (b.block, b.channels, b.kernel, b.residual, b.repeats):
                hits[i] += 1
    assert hits[0] > hits[1] + hits[2]


def test_reinforce_learns_a_rewarded_action():
    rng = np.random.default_rng(3)
    policy = MutationPolicy(SPACE, learning_rate=0.3)
    target = SPACE.widths.index(16)
    for _ in range(300):
        _, gene, value, action = policy.propose(rng, 5)
        reward = 1.0 if gene == "channels" and value == 16 else 0.0
        policy.learn(action, reward)
    probs = policy._softmax(policy.logits["channels"])
    assert probs[target] == probs.max() and probs[target] > 0.5
    state = policy.get_state()
    again = MutationPolicy(SPACE)
    again.set_state(state)
    np.testing.assert_allclose(again.logits["channels"], policy.logits["channels"])


def test_hypermodel_maps_specs_to_hyperparameters_and_back():
    import keras_tuner

    from tfsr.search.hypermodel import FalsrHyperModel

    hypermodel = FalsrHyperModel(SPACE)
    rng = np.random.default_rng(4)
    for _ in range(40):
        spec = SPACE.sample(rng)
        hp = keras_tuner.HyperParameters()
        hp.values = hypermodel.values_from_spec(spec)
        assert hypermodel.spec_from_hp(hp).to_dict() == spec.to_dict()


def test_keras_tuner_random_sampling_of_the_hyperparameters_gives_valid_specs():
    import keras_tuner

    from tfsr.search.hypermodel import FalsrHyperModel

    hypermodel = FalsrHyperModel(SPACE)
    oracle = keras_tuner.oracles.RandomSearchOracle(keras_tuner.Objective("psnr", "max"), max_trials=30, seed=3)
    hp = keras_tuner.HyperParameters()
    hypermodel.spec_from_hp(hp)  # declares the space
    oracle.update_space(hp)
    for k in range(30):
        values = oracle._random_values()
        trial_hp = oracle.get_space()
        trial_hp.values = values
        spec = hypermodel.spec_from_hp(trial_hp)
        assert SPACE.contains(spec)


def test_the_reparameterizable_blocks_and_activations_join_the_space_as_legal_cells():
    from tfsr.config import get_config
    from tfsr.search.run import make_space

    space = make_space(get_config("search"))
    assert {"ecb", "collapsible"} <= set(space.blocks) and set(space.activations) == {"relu", "prelu"}
    rng = np.random.default_rng(4)
    seen = set()
    policy = MutationPolicy(space)
    for k in range(120):
        spec = operators.mutate(space, space.sample(rng), rng)
        cell, gene, value, _ = policy.propose(rng, len(spec.cells))
        spec = operators.apply_cell_action(space, spec, cell, gene, value)
        assert space.contains(spec), spec.to_dict()
        seen |= {(c.block, c.kernel, c.activation) for c in spec.cells}
    # ecb exists only as 3x3: a kernel gene of 1 is overridden, never built.
    assert ("ecb", 1, "relu") not in seen and ("ecb", 3, "prelu") in seen and ("collapsible", 1, "relu") in seen


def test_plain_space_is_a_chain_of_one_block_type_with_the_anchor():
    from tfsr.search.hypermodel import FalsrHyperModel
    from tfsr.search.plain_space import PlainSpace

    space = PlainSpace()
    rng = np.random.default_rng(5)
    hypermodel = FalsrHyperModel(space)
    policy = MutationPolicy(space)
    population = [space.sample(rng) for _ in range(6)]
    for k in range(60):
        child = operators.crossover(space, population[k % 6], population[(k + 1) % 6], rng)
        child = operators.mutate(space, child, rng, mode=("random", "flops")[k % 2], lr_size=(32, 32))
        cell, gene, value, _ = policy.propose(rng, 1)
        child = operators.apply_cell_action(space, child, cell, gene, value)
        assert space.contains(child), child.to_dict()
        body = child.cells[0]
        assert len(child.cells) == 1 and child.upsampler_inputs() == [1] and body.kernel == 3
        assert (child.stem.block, child.stem.filters, child.stem.activation) == (body.block, body.channels, body.activation)
        assert child.upsampler.block == body.block and child.upsampler.global_skip == "anchor"
        # The hypermodel maps it to keras-tuner hyperparameters and back exactly.
        import keras_tuner

        hp = keras_tuner.HyperParameters()
        hypermodel.spec_from_hp(hp)
        hp.values.update(hypermodel.values_from_spec(child))
        assert hypermodel.spec_from_hp(hp).to_dict() == {**child.to_dict(), "name": "plain"}
    # Block type changes only how it trains: the deployed cost is the conv's.
    spec = population[0]
    as_conv = space.make_spec([type(spec.cells[0])(**{**spec.cells[0].to_dict(), "block": "conv"})], [1])
    as_ecb = space.make_spec([type(spec.cells[0])(**{**spec.cells[0].to_dict(), "block": "ecb"})], [1])
    assert count(as_conv, (36, 64)) == count(as_ecb, (36, 64))


@pytest.mark.parametrize("kind", ["falsr", "plain", "tpsr"])
def test_corners_are_members_spanning_the_spaces_widest_nets(kind):
    from tfsr.config import get_config
    from tfsr.search.run import make_space

    cfg = get_config("search")
    cfg.space.kind = kind
    if kind == "tpsr":
        cfg.scale, cfg.color = 4, "rgb"
        cfg.space.update({"blocks": ("conv", "sepconv"), "activations": ("prelu",), "upsampler": "subpixel"})
    space = make_space(cfg)
    corners = space.corners()
    assert len(corners) == 2 * len(space.activations) and len({c.to_json() for c in corners}) == len(corners)
    assert all(space.contains(c) for c in corners)
    assert {c.cells[0].activation for c in corners} == set(space.activations)
    # The deepest corner costs at least any random member of its width and activation does.
    rng = np.random.default_rng(0)
    deepest = max(count(c, (32, 32)).mult_adds for c in corners)
    assert all(count(space.sample(rng), (32, 32)).mult_adds <= deepest for _ in range(40))


def test_space_config_errors_name_the_field():
    import pytest

    from tfsr.config import get_config
    from tfsr.errors import UserError
    from tfsr.search.run import make_space

    for field, value, message in (
        ("kind", "tree", "space.kind must be"),
        ("blocks", ("conv", "mystery"), "space.blocks: unknown"),
        ("activations", ("swish",), "space.activations: unknown"),
        ("global_skip", "cubic", "space.global_skip must be"),
    ):
        cfg = get_config("search")
        cfg.space[field] = value
        with pytest.raises(UserError, match=message):
            make_space(cfg)


def test_tpsr_space_sums_fixed_width_nodes_and_stays_closed_under_the_operators():
    from tfsr.config import get_config
    from tfsr.search.hypermodel import FalsrHyperModel
    from tfsr.search.run import make_space

    cfg = get_config("search")
    cfg.scale, cfg.color = 4, "rgb"
    cfg.space.update({"kind": "tpsr", "blocks": ("conv", "sepconv"), "activations": ("prelu",),
                      "min_cells": 2, "max_cells": 6, "upsampler": "subpixel"})  # fmt: skip
    space = make_space(cfg)
    rng = np.random.default_rng(6)
    hypermodel = FalsrHyperModel(space)
    policy = MutationPolicy(space)
    population = [space.sample(rng) for _ in range(6)]
    ops = set()
    for k in range(60):
        child = operators.crossover(space, population[k % 6], population[(k + 1) % 6], rng)
        child = operators.mutate(space, child, rng, mode=("random", "flops")[k % 2], lr_size=(18, 32))
        cell, gene, value, _ = policy.propose(rng, len(child.cells))
        child = operators.apply_cell_action(space, child, min(cell, len(child.cells) - 1), gene, value)
        assert space.contains(child), child.to_dict()
        assert (child.scale, child.channels, child.stem.filters) == (4, 3, 16)
        assert all(c.channels == 16 and c.merge == "sum" and c.repeats == 1 for c in child.cells)
        assert child.upsampler.merge == "sum"
        ops |= {(c.block, c.kernel) for c in child.cells}
        hp = keras_tuner.HyperParameters()
        hypermodel.spec_from_hp(hp)
        hp.values.update(hypermodel.values_from_spec(child))
        assert hypermodel.spec_from_hp(hp).to_dict() == {**child.to_dict(), "name": "tpsr"}
    # TPSR's five node ops, and no 7x7 separable conv.
    assert ops == {("conv", 3), ("conv", 5), ("conv", 7), ("sepconv", 3), ("sepconv", 5)}
    # A summed link is free: linking every node to the stem adds no parameter or mult-add.
    spec = population[0]
    linked = space.make_spec(
        [type(c)(**{**c.to_dict(), "inputs": sorted({0, i})}) for i, c in enumerate(spec.cells)], [len(spec.cells)]
    )
    chain = space.make_spec([type(c)(**{**c.to_dict(), "inputs": [i]}) for i, c in enumerate(spec.cells)],
                            [len(spec.cells)])  # fmt: skip
    assert count(linked, (180, 320)) == count(chain, (180, 320))
    # The resize-conv tails are a choice of the space: every spec it makes has the one chosen.
    for tail in ("resize_conv", "progressive_resize_conv"):
        cfg.space.upsampler = tail
        resize = make_space(cfg)
        spec = operators.mutate(resize, resize.sample(rng), rng)
        assert spec.upsampler.type == tail and resize.contains(spec) and not space.contains(spec)
    cfg.space.upsampler = "deconv"
    with pytest.raises(UserError, match="space.upsampler"):
        make_space(cfg)
    cfg.space.upsampler, cfg.space.blocks = "subpixel", ("conv", "inverted_bottleneck")
    with pytest.raises(UserError, match="space.blocks: TPSR's nodes"):
        make_space(cfg)
