"""DLSR (Huang et al.): the differentiable search's space, its cost penalty
and the derivation of an `ArchSpec` from the architecture weights.

The supernet is an RFDN backbone of `blocks` distillation blocks of width
`nf`; each distillation step's refinement op is a softmax(alpha)-weighted
mix of the nine `CANDIDATES` (alpha: `steps` x 9, shared by all blocks, as
in DLSR); before block k >= 3 a softmax(beta_k)-weighted concatenation of
the earlier blocks' outputs is fused by a 1x1 conv.

The cost penalty is the *expected* deployed mult-adds of the derived
network under softmax(alpha), made of the same per-op costs that
`tfsr.arch.count` sums (`tfsr.arch.cost.op_cost` of each candidate's op
graph), so it is a differentiable function of alpha in `keras.ops`; the
public DLSR code computes its penalty from `alpha.data` in numpy, which
has no gradient at all.  With alpha one-hot the expectation equals
`count(derive(...))` exactly.  beta does not change the cost: the derived
network fuses exactly two earlier outputs before each block, whichever
they are.
"""

import dataclasses
from typing import Tuple

import keras
import numpy as np

from tfsr.arch.blocks.distill import CANDIDATES, emit_candidate
from tfsr.arch.cost import count, op_cost
from tfsr.arch.graph import OpGraph
from tfsr.arch.spec import ArchSpec, CellSpec, StemSpec, UpsamplerSpec


@dataclasses.dataclass(frozen=True)
class DlsrSpace:
    """The supernet's fixed shape and its searched choices."""

    scale: int = 2
    channels: int = 1  # 1: Y, 3: RGB
    nf: int = 48  # DLSR's width; 18 for its tiny variant
    blocks: int = 6
    steps: int = 3  # distillation steps per block
    candidates: Tuple[str, ...] = tuple(CANDIDATES)
    activation: str = "relu"  # DLSR's: leaky_relu (slope 0.05); relu/prelu run well in int8
    esa: bool = False  # RFDN's and DLSR's spatial attention after each block's fusion
    kept_inputs: int = 2  # earlier outputs each block k >= 3 keeps (DLSR: top-2)

    @property
    def alpha_shape(self):
        return (self.steps, len(self.candidates))

    def beta_sizes(self):
        """Number of earlier outputs block k (k = 3 ... blocks) chooses among: k - 1."""
        return [k - 1 for k in range(3, self.blocks + 1)]


def candidate_mult_adds(space, lr_size):
    """Deployed mult-adds of each candidate op at width `nf` for one LR
    input of `lr_size = (height, width)`, from the cost model."""
    costs = []
    for name in space.candidates:
        g = OpGraph()
        x = g.input(space.nf)
        emit_candidate(g, x, name, space.nf)
        costs.append(sum(op_cost(op, sum(g[i].channels for i in op.inputs), lr_size)[1] for op in g.ops[1:]))
    return np.array(costs, dtype=np.float64)


class ExpectedCost:
    """E[cost] of the derived network under softmax(alpha), for a cost that
    adds up over the step ops: mult-adds (the default, for one LR input of
    `lr_size`) or any `cost_of(spec)` that does, e.g. a device profile's
    predicted int8 ms (`tfsr.latency_profile.PredictedLatency`, linear in
    per-op work).  Each candidate's share is measured once, from the
    network with every step set to it, so a call is a few `keras.ops` on
    alpha.  `unit`: what the search's cost term counts (1e9: G mult-adds;
    1: ms) and `unit_name` says it in logs.
    """

    def __init__(self, space, lr_size=(360, 640), cost_of=None, unit=1e9, unit_name="G"):
        self.space, self.unit, self.unit_name = space, unit, unit_name
        cost_of = cost_of or (lambda spec: count(spec, lr_size).mult_adds)
        n, ops = len(space.candidates), space.blocks * space.steps
        totals = np.array([cost_of(derive(space, np.eye(n)[np.full(space.steps, i)])) for i in range(n)], np.float64)
        self.fixed = float(totals[0])
        self.candidate_costs = ((totals - totals[0]) / ops).astype(np.float32)  # each op's cost over candidate 0's

    def __call__(self, alpha):
        weights = keras.ops.softmax(keras.ops.convert_to_tensor(alpha, "float32"), axis=-1)
        return self.fixed + self.space.blocks * keras.ops.sum(weights * self.candidate_costs)


def expected_mult_adds(space, alpha, lr_size):
    """E[mult-adds] of the derived network under softmax(alpha) (a
    `keras.ops` scalar, differentiable in `alpha`)."""
    return ExpectedCost(space, lr_size)(alpha)


PENALTY_UNIT = 1e9  # the cost term counts G mult-adds


def cost_penalty(space, alpha, lr_size, max_mult_adds=0.0):
    """The search's cost term: expected mult-adds in G, or with a ceiling
    (`max_mult_adds` > 0) only what the expectation exceeds it by, so the
    search is free to choose below it."""
    return excess(expected_mult_adds(space, alpha, lr_size), max_mult_adds) / PENALTY_UNIT


def excess(expected, max_mult_adds):
    """`expected` itself without a ceiling (`max_mult_adds` 0), else its
    part above `max_mult_adds` (either may be a tensor)."""
    return keras.ops.where(max_mult_adds > 0, keras.ops.relu(expected - max_mult_adds), expected)


def softmax(x):
    """Row-wise softmax of an array (numpy): architecture weights as probabilities."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def derive_within(space, alpha, beta, max_mult_adds, lr_size, name="dlsr"):
    """`derive`, then while the network costs more than `max_mult_adds` at
    `lr_size`, the step op whose switch to a cheaper candidate gives up the
    least softmax(alpha) weight is switched.  Raises ValueError when even
    the cheapest ops exceed the ceiling."""
    weights = softmax(alpha)
    costs = candidate_mult_adds(space, lr_size)
    choice = np.argmax(weights, axis=-1)
    while True:
        spec = derive(space, np.eye(len(space.candidates))[choice], beta, name=name)
        if count(spec, lr_size).mult_adds <= max_mult_adds:
            return spec
        switches = [(weights[s, choice[s]] - weights[s, k], s, k)
                    for s in range(space.steps) for k in range(len(costs)) if costs[k] < costs[choice[s]]]  # fmt: skip
        if not switches:
            raise ValueError(f"even the cheapest candidate ops cost {count(spec, lr_size).mult_adds / 1e9:.2f}G "
                             f"mult-adds, over the ceiling of {max_mult_adds / 1e9:.2f}G")  # fmt: skip
        _, s, k = min(switches)
        choice[s] = k


def derive(space, alpha, beta=None, name="dlsr"):
    """The `ArchSpec` the architecture weights choose: each step's op is the
    argmax of its alpha row; block k >= 3 reads the `kept_inputs` earlier
    outputs with the largest beta_k (the latest ones when `beta` is None),
    fused by a 1x1 conv; the block outputs are fused by a 1x1 conv, refined
    by a 3x3 conv and upsampled by a sub-pixel conv over the anchor residual
    (in place of DLSR's long feature skip: the anchor keeps int8 error low)."""
    alpha = np.asarray(alpha)
    ops = ",".join(space.candidates[int(k)] for k in np.argmax(alpha, axis=-1))
    act = space.activation
    cells, block_nodes = [], []  # node 0 is the stem; node i the output of cells[i - 1]
    for k in range(1, space.blocks + 1):
        if k >= 3:
            weights = np.asarray(beta[k - 3]) if beta is not None else np.arange(k - 1, dtype=float)
            keep = sorted(int(j) for j in np.argsort(-weights, kind="stable")[: space.kept_inputs])
            cells.append(CellSpec("conv", space.nf, kernel=1, activation=act, inputs=[block_nodes[j] for j in keep]))
            source = [len(cells)]
        else:
            source = [block_nodes[-1]] if block_nodes else [0]
        options = {"op": ops, "steps": space.steps, **({"esa": True} if space.esa else {})}
        cells.append(CellSpec("distill", space.nf, kernel=3, activation=act, inputs=source, options=options))
        block_nodes.append(len(cells))
    cells.append(CellSpec("conv", space.nf, kernel=1, activation=act, inputs=list(block_nodes)))
    cells.append(CellSpec("conv", space.nf, kernel=3, activation="linear"))
    spec = ArchSpec(
        scale=space.scale,
        cells=cells,
        stem=StemSpec(filters=space.nf, kernel=3, activation="linear"),
        upsampler=UpsamplerSpec(type="subpixel", kernel=3, global_skip="anchor"),
        channels=space.channels,
        name=name,
    )
    spec.validate()
    return spec
