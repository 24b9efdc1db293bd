"""TPSR's generator space (Lee et al., "Journey Towards Tiny Perceptual SR").

    LR ── stem 3x3 (16) ── node 1 ── node 2 ── ... ── node N ── 3x3 sub-pixel conv ── x4 shuffle ──(+)── SR
     │          └────────┴── Σ ──┘     (each node sums the earlier nodes it reads)             │
     └──────────────────────────────────── bilinear x4 ───────────────────────────────────────┘

Every node is one op of {3x3, 5x5, 7x7 conv; depthwise-separable 3x3, 5x5
conv}, each followed by PReLU, on a fixed width (16, the stem's), and reads
the *sum* of the earlier nodes it links to (the previous one always), so a
link costs no mult-adds.  The generator is RGB and x4.  tfsr adds its
bilinear global skip (the nodes learn the residual detail, which makes the
short proxy training far more telling).

`upsampler="resize_conv"` replaces the sub-pixel tail by nearest x4 + a 3x3
conv: the same mult-adds, and no 4-pixel grid after perceptual + adversarial
training (bench/grid_x4.sh), but flat 4x4 tiles; `"progressive_resize_conv"`
by nearest x2 + 3x3 conv + PReLU, nearest x2 + 3x3 conv: neither.

It is `FalsrSpace` with `merge="sum"`, one width, no repeats, and the
node op as the (block, kernel) genes, so the FALSR hypermodel, operators,
RL policy and multi-objective oracle drive it unchanged.
"""

import dataclasses
from typing import Tuple

from tfsr.arch.spec import StemSpec
from tfsr.search.space import FalsrSpace


@dataclasses.dataclass(frozen=True)
class TpsrSpace(FalsrSpace):
    scale: int = 4
    channels: int = 3  # RGB, as perceptual training needs
    min_cells: int = 2
    max_cells: int = 6
    blocks: Tuple[str, ...] = ("conv", "sepconv")
    widths: Tuple[int, ...] = (16,)
    kernels: Tuple[int, ...] = (3, 5, 7)
    repeats: Tuple[int, ...] = (1,)
    stem_filters: int = 16
    activations: Tuple[str, ...] = ("prelu",)
    merge: str = "sum"

    NAME = "tpsr"

    # TPSR's separable convs stop at 5x5.
    MAX_KERNELS = {"sepconv": 5}

    def legal_cell(self, cell):
        cell = super().legal_cell(cell)
        cell.kernel = min(cell.kernel, self.MAX_KERNELS.get(cell.block, cell.kernel))
        cell.channels = self.stem_filters  # a sum needs one width everywhere
        return cell

    def stem(self, cells):
        return StemSpec(filters=self.stem_filters, kernel=3, activation=self.activations[0])
