"""DLSR's supernet and its first-order differentiable search.

    x ─ stem 3x3 ─ B1 ─ B2 ─┬──────────── B3 ─ ... ─ B_n
                   │    │   └ softmax(beta_3)-weighted concat(B1, B2) ─ 1x1 ─ act ┘
                   └────┴──── (block k >= 3 reads all earlier outputs so)
    concat(B1..B_n) ─ 1x1 ─ act ─ 3x3 ─ sub-pixel 3x3 ─ + anchor(x) ─ out

Each B is a distillation block (`tfsr.arch.blocks.distill`, with ESA when
the space has it) whose step-s refinement op is the softmax(alpha[s])-
weighted sum of the candidate ops, each built from its op graph by the
same `make_layer` the builder uses.
Only `keras.layers` / `keras.ops`: it trains under TensorFlow and JAX.

`search` alternates, as DLSR does (first order): weight phases on one
stream of patches (alpha and beta frozen), architecture phases on a
held-out stream (weights frozen) with loss L1 + `penalty_weight` x the
expected mult-adds in G, or the expected int8 ms a device profile predicts
(`tfsr.search.dlsr.ExpectedCost`; with a ceiling, only what they exceed
it by), each phase a
`model.fit` of `phase_steps` steps with its own optimizer, so no backend's
gradient API is used.  `derive` then turns alpha and beta into the
`ArchSpec` that the builder, trainer and exporters take.
"""

import keras
import numpy as np

from tfsr.arch.blocks.distill import emit_candidate
from tfsr.arch.blocks.esa import emit_esa
from tfsr.arch.builder import make_layer
from tfsr.arch.graph import LEAKY_SLOPE, OpGraph
from tfsr.arch.layers import PixelShuffle
from tfsr.search.dlsr import ExpectedCost, derive, excess


def _activation(kind):
    """A cell activation's layer, as the builder makes it (with a unique automatic name)."""
    if kind == "prelu":
        return keras.layers.PReLU(shared_axes=[1, 2])
    if kind == "leaky_relu":
        return keras.layers.LeakyReLU(LEAKY_SLOPE)
    return keras.layers.Activation(kind)


class OpGraphLayer(keras.layers.Layer):
    """The ops of a one-input `OpGraph` as one layer, each op's layer made
    by the builder's `make_layer`: a candidate op or ESA, as the derived
    network will have it."""

    def __init__(self, graph, **kwargs):
        super().__init__(**kwargs)
        self.graph = graph
        self.op_layers = [make_layer(op) for op in graph.ops[1:]]

    def call(self, x):
        tensors = {self.graph.ops[0].name: x}
        for op, layer in zip(self.graph.ops[1:], self.op_layers):
            inputs = [tensors[i] for i in op.inputs]
            tensors[op.name] = layer(inputs if len(inputs) > 1 else inputs[0])
        return tensors[self.graph.output]


def _graph_layer(prefix, channels, emit):
    """An `OpGraphLayer` of what `emit(g, x)` appends over an input of `channels`."""
    g = OpGraph()
    g.prefix = prefix
    emit(g, g.input(channels))
    return OpGraphLayer(g)


class MixedOp(keras.layers.Layer):
    """sum_k w[k] * candidate_k(x) for a weight vector `w` given at call."""

    def __init__(self, nf, candidates, **kwargs):
        super().__init__(**kwargs)
        self.paths = [_graph_layer(f"{self.name}_{name}_", nf, lambda g, x, name=name: emit_candidate(g, x, name, nf))
                      for name in candidates]  # fmt: skip

    def call(self, x, weights):
        total = 0.0
        for k, path in enumerate(self.paths):
            total = total + weights[k] * path(x)
        return total


class SuperDistillBlock(keras.layers.Layer):
    """A distillation block whose refinement ops are `MixedOp`s."""

    def __init__(self, space, **kwargs):
        super().__init__(**kwargs)
        nf, act = space.nf, space.activation
        self.distill = [keras.layers.Conv2D(nf // 2, 1) for _ in range(space.steps)]
        self.distill_acts = [_activation(act) for _ in range(space.steps)]
        self.mixed = [MixedOp(nf, space.candidates, name=f"{self.name}_mix{s}") for s in range(space.steps)]
        self.refine_acts = [_activation(act) for _ in range(space.steps)]
        self.last = keras.layers.Conv2D(nf // 2, 3, padding="same")
        self.last_act = _activation(act)
        self.fuse = keras.layers.Conv2D(nf, 1)
        self.esa = _graph_layer(f"{self.name}_", nf, lambda g, x: emit_esa(g, x, nf)) if space.esa else None

    def call(self, x, weights):
        distilled = []
        for s, mixed in enumerate(self.mixed):
            distilled.append(self.distill_acts[s](self.distill[s](x)))
            x = self.refine_acts[s](mixed(x, weights[s]) + x)
        distilled.append(self.last_act(self.last(x)))
        fused = self.fuse(keras.ops.concatenate(distilled, axis=-1))
        return self.esa(fused) if self.esa else fused


class DlsrSupernet(keras.Model):
    """The supernet of a `DlsrSpace`; `alpha` and `betas` are its architecture weights."""

    def __init__(self, space, expected_cost=None, **kwargs):
        super().__init__(**kwargs)
        self.space = space
        nf, s = space.nf, space.scale
        small = keras.initializers.RandomNormal(stddev=1e-3, seed=0)
        self.alpha = self.add_weight(shape=space.alpha_shape, initializer=small, name="alpha")
        self.betas = [self.add_weight(shape=(n,), initializer=small, name=f"beta{k + 3}")
                      for k, n in enumerate(space.beta_sizes())]  # fmt: skip
        self.penalty_weight = self.add_weight(shape=(), initializer="zeros", trainable=False, name="penalty_weight")
        # A mult-adds ceiling (0: none): the cost term is then what E[mult-adds] exceeds it by.
        self.max_mult_adds = self.add_weight(shape=(), initializer="zeros", trainable=False, name="max_mult_adds")
        self.stem = keras.layers.Conv2D(nf, 3, padding="same")
        self.blocks = [SuperDistillBlock(space, name=f"block{k + 1}") for k in range(space.blocks)]
        self.fusers = [keras.layers.Conv2D(nf, 1) for _ in space.beta_sizes()]
        self.fuser_acts = [_activation(space.activation) for _ in space.beta_sizes()]
        self.fuse_all = keras.layers.Conv2D(nf, 1)
        self.fuse_act = _activation(space.activation)
        self.refine = keras.layers.Conv2D(nf, 3, padding="same")
        self.tail = keras.layers.Conv2D(space.channels * s * s, 3, padding="same")
        self.shuffle = PixelShuffle(s)
        # By default the penalty counts G mult-adds for a 640x360 LR input; the costs are counted once.
        self.expected_cost = expected_cost or ExpectedCost(space, (360, 640))

    def architecture_variables(self):
        return [self.alpha, *self.betas]

    def call(self, x):
        weights = keras.ops.softmax(self.alpha, axis=-1)
        h = self.stem(x)
        outputs = []
        for k, block in enumerate(self.blocks, 1):
            if k >= 3:
                beta = keras.ops.softmax(self.betas[k - 3])
                mixed = keras.ops.concatenate([beta[j] * o for j, o in enumerate(outputs)], axis=-1)
                h = self.fuser_acts[k - 3](self.fusers[k - 3](mixed))
            elif outputs:
                h = outputs[-1]
            outputs.append(block(h, weights))
        y = self.refine(self.fuse_act(self.fuse_all(keras.ops.concatenate(outputs, axis=-1))))
        anchor = keras.ops.concatenate([x] * (self.space.scale**2), axis=-1)
        # The cost term joins the loss here so that fit() minimizes it with
        # the architecture weights (it is constant while they are frozen).
        over = excess(self.expected_cost(self.alpha), self.max_mult_adds)
        self.add_loss(self.penalty_weight * over / self.expected_cost.unit)
        return self.shuffle(self.tail(y) + anchor)

    def derive(self, name="dlsr"):
        """The `ArchSpec` the current alpha and beta choose."""
        return derive(self.space, np.asarray(self.alpha), [np.asarray(b) for b in self.betas], name=name)


def _freeze(model, architecture):
    """Trains either the architecture weights (True) or the others (False)."""
    arch = {id(v) for v in model.architecture_variables()}
    for v in model.variables:
        if v is model.penalty_weight or v is model.max_mult_adds:
            continue
        v.trainable = (id(v) in arch) == architecture


def build_supernet(space, patch_size=24, expected_cost=None):
    """The supernet, built; `expected_cost`: the cost term's `ExpectedCost` (default: G mult-adds)."""
    model = DlsrSupernet(space, expected_cost=expected_cost)
    model(np.zeros((1, patch_size, patch_size, space.channels), np.float32))
    return model


def make_optimizers(weight_lr=5e-4, arch_lr=3e-4):
    """DLSR's two optimizers: (weights: Adam, architecture: Adam with beta_1 0.5)."""
    return keras.optimizers.Adam(weight_lr), keras.optimizers.Adam(arch_lr, beta_1=0.5, beta_2=0.999)


def optimizer_state(model, optimizers):
    """The optimizers' variables as arrays: {"weights": [...], "arch": [...]}
    (an optimizer not built yet has none)."""
    return {key: [np.asarray(v) for v in opt.variables] if opt.built else []
            for key, opt in zip(("weights", "arch"), optimizers)}  # fmt: skip


def restore_optimizers(model, optimizers, state):
    """Builds `optimizers` on the variables they update and loads `state`
    (from `optimizer_state`), so a resumed search keeps Adam's moments."""
    for architecture, opt, key in ((False, optimizers[0], "weights"), (True, optimizers[1], "arch")):
        if not len(state.get(key, [])):
            continue
        _freeze(model, architecture)
        opt.build(model.trainable_variables)
        if len(opt.variables) != len(state[key]):
            raise ValueError(f"the {key} optimizer has {len(opt.variables)} variables, "
                             f"the checkpoint {len(state[key])}")  # fmt: skip
        for v, value in zip(opt.variables, state[key]):
            v.assign(value)
    _freeze(model, architecture=False)


def search(space, weight_batches, arch_batches, steps, penalty_weight=0.0, phase_steps=50, warmup=0,
           weight_lr=5e-4, arch_lr=3e-4, patch_size=24, model=None, optimizers=None, start=0, on_round=None,
           max_mult_adds=0.0, log=print):  # fmt: skip
    """Runs DLSR's alternating search up to `steps` weight steps; returns the supernet.

    `weight_batches` and `arch_batches`: iterables of `(lr, hr)` batches
    from two disjoint image sets.  The first `warmup` steps train weights
    only; after that each `phase_steps` weight steps are followed by
    `phase_steps` architecture steps.  To resume, pass the `model`, its
    `optimizers` (`make_optimizers`, restored) and the weight steps already
    done as `start`; `on_round(model, optimizers, done)` is called after
    each round (to checkpoint).  `max_mult_adds` (> 0): the cost term only
    counts what the expected mult-adds (640x360 LR) exceed it by.
    """
    model = model or build_supernet(space, patch_size)
    model.penalty_weight.assign(float(penalty_weight))
    model.max_mult_adds.assign(float(max_mult_adds))
    weight_opt, arch_opt = optimizers or make_optimizers(weight_lr, arch_lr)
    weight_iter, arch_iter = iter(weight_batches), iter(arch_batches)
    done = start
    while done < steps:
        chunk = min(phase_steps, steps - done)
        _freeze(model, architecture=False)
        model.compile(optimizer=weight_opt, loss="mean_absolute_error", jit_compile=False)
        model.fit(_take(weight_iter, chunk), steps_per_epoch=chunk, epochs=1, verbose=0, shuffle=False)
        done += chunk
        if done > warmup:
            _freeze(model, architecture=True)
            model.compile(optimizer=arch_opt, loss="mean_absolute_error", jit_compile=False)
            history = model.fit(_take(arch_iter, chunk), steps_per_epoch=chunk, epochs=1, verbose=0, shuffle=False)
            ops = model.derive().cells[0].options["op"]
            log(f"[dlsr] step {done}/{steps}  arch loss {history.history['loss'][-1]:.4f}  ops {ops}")
        else:
            log(f"[dlsr] step {done}/{steps}  (weights only until step {warmup})")
        if on_round:
            on_round(model, (weight_opt, arch_opt), done)
    _freeze(model, architecture=False)
    return model


def _take(iterator, n):
    for _ in range(n):
        lr, hr = next(iterator)
        yield np.asarray(lr), np.asarray(hr)
