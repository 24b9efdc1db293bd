"""FALSR's elastic search space, expressed directly over `ArchSpec`s.

The genome *is* the spec: every search strategy samples, mutates and crosses
over `ArchSpec`s, so what the searcher proposes is exactly what the builder
builds and the cost model prices.

Micro (per cell): block in {conv, group_conv2, group_conv4,
inverted_bottleneck} (FALSR's; the config adds the re-parameterizable ecb
and collapsible), channels in {16, 32, 48, 64}, kernel in {1, 3}, residual
in {no, yes}, repeats in {1, 2, 4}, activation (ReLU; the config adds PReLU).
Macro: the set of earlier nodes (0 = stem, i = cell i) each cell reads, and
the set of nodes the upsampler reads (always including the last cell).
Fixed: a 3x3, 32-filter stem, ReLU, a 3x3 sub-pixel upsampler plus a global
skip (bilinear by default, or ABPN's anchor; the cells learn the residual
detail, which makes short proxy training far more telling), optionally a
clipped output.

A block that only exists at one kernel size (ecb is 3x3) is given that
kernel whatever the kernel gene says (`legal_cell`), so every operator and
every keras-tuner oracle still produces buildable specs.
"""

import dataclasses
from typing import Tuple

from tfsr.arch.spec import ArchSpec, CellSpec, StemSpec, UpsamplerSpec


@dataclasses.dataclass(frozen=True)
class FalsrSpace:
    scale: int = 2
    channels: int = 1  # image channels (1 = Y)
    min_cells: int = 3
    max_cells: int = 7
    blocks: Tuple[str, ...] = ("conv", "group_conv2", "group_conv4", "inverted_bottleneck")
    widths: Tuple[int, ...] = (16, 32, 48, 64)
    kernels: Tuple[int, ...] = (1, 3)
    repeats: Tuple[int, ...] = (1, 2, 4)
    stem_filters: int = 32
    activations: Tuple[str, ...] = ("relu",)
    link_probability: float = 0.3  # chance of each extra (non-adjacent) macro link
    global_skip: str = "bilinear"  # learn the residual over bilinear upsampling (or "anchor")
    clip: bool = False  # clip the output to [0, 1]
    merge: str = "concat"  # how every cell and the upsampler combine their inputs (sum: one width)
    upsampler: str = "subpixel"  # or resize_conv, progressive_resize_conv (see tfsr/arch/upsamplers)

    NAME = "falsr"  # the name of the specs it makes

    # Blocks defined at one kernel size only.
    FIXED_KERNELS = {"ecb": 3}

    def legal_cell(self, cell):
        """`cell` with the genes its block cannot take replaced (a copy)."""
        cell = dataclasses.replace(cell)
        cell.kernel = self.FIXED_KERNELS.get(cell.block, cell.kernel)
        cell.merge = self.merge
        return cell

    # ---- sampling ---------------------------------------------------------------
    def random_cell(self, rng, index):
        """A random cell at position `index` (0-based), with random links."""
        return CellSpec(
            block=str(rng.choice(self.blocks)),
            channels=int(rng.choice(self.widths)),
            kernel=int(rng.choice(self.kernels)),
            repeats=int(rng.choice(self.repeats)),
            residual=bool(rng.random() < 0.5),
            inputs=self.random_links(rng, index + 1),
            activation=str(rng.choice(self.activations)),
        )

    def random_links(self, rng, node):
        """Inputs of node `node`: the previous node plus random earlier ones."""
        links = [j for j in range(node - 1) if rng.random() < self.link_probability]
        return sorted(links + [node - 1])

    def sample(self, rng, name="falsr"):
        """A random valid `ArchSpec` of this space. `rng`: numpy Generator."""
        n = int(rng.integers(self.min_cells, self.max_cells + 1))
        cells = [self.random_cell(rng, i) for i in range(n)]
        return self.make_spec(cells, self.random_links(rng, n + 1), name=name)

    def corners(self, name="corner"):
        """The space's widest members at its fewest and its most layers, one pair
        per activation (a chain of the first block type, largest kernel): a
        latency profile measures them beside random samples, so its fit spans
        the space's extremes instead of extrapolating to them."""
        specs = []
        for activation in self.activations:
            for n, repeats, depth in ((self.min_cells, min(self.repeats), "shallowest"),
                                      (self.max_cells, max(self.repeats), "deepest")):  # fmt: skip
                cells = [CellSpec(block=self.blocks[0], channels=max(self.widths), kernel=max(self.kernels),
                                  repeats=repeats, inputs=[i], activation=activation) for i in range(n)]  # fmt: skip
                specs.append(self.make_spec(cells, [n], name=f"{name}_{depth}_{activation}"))
        return specs

    def make_spec(self, cells, upsampler_inputs, name="falsr"):
        """Assembles (and validates) a spec from cells and upsampler links."""
        cells = [self.legal_cell(c) for c in cells]
        spec = ArchSpec(
            scale=self.scale,
            cells=cells,
            stem=self.stem(cells),
            upsampler=UpsamplerSpec(
                type=self.upsampler, kernel=3, inputs=list(upsampler_inputs), global_skip=self.global_skip,
                clip=self.clip, block=self.tail_block(cells), merge=self.merge,
            ),  # fmt: skip
            channels=self.channels,
            name=name,
        )
        spec.validate()
        return spec

    def stem(self, cells):
        """The fixed stem (a subclass may derive it from the cells)."""
        return StemSpec(filters=self.stem_filters, kernel=3, activation="relu")

    def tail_block(self, cells):
        """The block type of the sub-pixel conv."""
        return "conv"

    def contains(self, spec):
        """True if `spec` lies in this space (used by tests and the oracle)."""
        if spec.scale != self.scale or spec.channels != self.channels:
            return False
        if not self.min_cells <= len(spec.cells) <= self.max_cells:
            return False
        if spec.stem != self.stem(spec.cells) or spec.upsampler.type != self.upsampler:
            return False
        up = spec.upsampler
        if (up.global_skip, up.clip, up.merge) != (self.global_skip, self.clip, self.merge):
            return False
        for i, c in enumerate(spec.cells):
            if (
                c.block not in self.blocks
                or c.channels not in self.widths
                or (c.kernel not in self.kernels and c.block not in self.FIXED_KERNELS)
                or c != self.legal_cell(c)
                or c.repeats not in self.repeats
                or c.activation not in self.activations
            ):
                return False
            if i not in spec.cell_inputs(i):
                return False
        return len(spec.cells) in spec.upsampler_inputs()
