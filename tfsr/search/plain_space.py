"""The plain sequential space of the best tiny hand designs (ECBSR, ABPN, ETDS).

    LR ── stem 3x3 (w) ── N x [3x3 block (w) + act] ── 3x3 sub-pixel conv ──(+)── shuffle ── [clip]
     └────────────────────── repeated s² times (anchor) ───────────────────┘

One block type for the stem, the body and the tail (plain conv, ECBSR's
ecb, SESR's collapsible: they all deploy to the same 3x3 convs, so the
block type only changes how the network trains), one width, one activation,
depth N, and optionally a long residual around the body.  Deployed, every
member is a chain of plain 3x3 convs with ReLU or PReLU: the structure that
runs fastest in int8.

It is `FalsrSpace` with a single cell whose genes are the whole network's
(block, channels = width, repeats = depth, activation, residual), so the
FALSR hypermodel, operators, RL policy and oracle drive it unchanged; only
the stem and the tail follow the cell instead of being fixed.
"""

import dataclasses
from typing import Tuple

from tfsr.arch.spec import StemSpec
from tfsr.search.space import FalsrSpace


@dataclasses.dataclass(frozen=True)
class PlainSpace(FalsrSpace):
    min_cells: int = 1
    max_cells: int = 1
    blocks: Tuple[str, ...] = ("conv", "ecb", "collapsible")
    # Steps of 2-8 channels where the costs of a tiny net lie: under a
    # ceiling the best net is often one width-step narrower and deeper.
    widths: Tuple[int, ...] = (8, 12, 14, 16, 20, 24, 28, 32, 48)
    kernels: Tuple[int, ...] = (3,)
    repeats: Tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)  # depth of the body
    activations: Tuple[str, ...] = ("relu", "prelu")
    global_skip: str = "anchor"
    link_probability: float = 0.0  # a chain: the tail reads the body only
    NAME = "plain"

    def stem(self, cells):
        body = cells[0]
        return StemSpec(filters=body.channels, kernel=3, activation=body.activation, block=body.block)

    def tail_block(self, cells):
        return cells[0].block
