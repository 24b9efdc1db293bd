"""RFDN's residual feature distillation block, the cell DLSR searches.

With width nf = `cell.channels` and `options.op` the searched refinement
op (one of `CANDIDATES` for every step, or one per step, comma-separated:
"sep5,dil3,conv3", as DLSR's 3 x 9 alpha matrix derives them):

    x ──┬─ 1x1 → nf/2 ─ act ─────────────────────────────────┐ d1
        └─ op(x) + x ─ act ─┬─ 1x1 → nf/2 ─ act ─────────────┤ d2
                            └─ op(.) + . ─ act ─┬─ 1x1 ─ act ┤ d3
                                                └─ op(.) + . ─ act ─ 3x3 → nf/2 ─ act ┤ d4
    concat(d1, d2, d3, d4) ─ 1x1 → nf ─ [ESA] ─ out

`options.steps` (default 3) is the number of distillation steps.  The
activation is the cell's: DLSR's is leaky_relu (slope 0.05); relu and
prelu are also offered, which int8 runs well.  `options.esa` (default
false) adds RFDN's enhanced spatial attention after the fusion
(`tfsr.arch.blocks.esa`), as RFDN and DLSR have it.  A block's input must
already have nf channels (the refinement adds its input); give the cell
`inputs` of that width.
"""

from tfsr.arch.blocks.esa import emit_esa
from tfsr.arch.registry import BLOCKS, Block, register_block
from tfsr.arch.spec import CellSpec

# DLSR's nine candidate ops: name -> (block type, kernel, options).
CANDIDATES = {
    "conv1": ("conv", 1, {}),
    "conv3": ("conv", 3, {}),
    "conv5": ("conv", 5, {}),
    "conv7": ("conv", 7, {}),
    "sep3": ("sepconv", 3, {}),
    "sep5": ("sepconv", 5, {}),
    "sep7": ("sepconv", 7, {}),
    "dil3": ("dilated", 3, {"dilation": 2}),
    "dil5": ("dilated", 5, {"dilation": 2}),
}


def emit_candidate(g, x, name, channels):
    """Appends candidate op `name` (linear) reading `x`; returns its node."""
    block, kernel, options = CANDIDATES[name]
    return BLOCKS[block].emit(g, x, CellSpec(block, channels, kernel=kernel, activation="linear", options=options))


def step_ops(cell):
    """The refinement op of each distillation step of a distill `cell`."""
    steps = cell.options.get("steps", 3)
    names = [name.strip() for name in str(cell.options.get("op", "conv3")).split(",")]
    return names * steps if len(names) == 1 else names


@register_block("distill")
class DistillBlock(Block):
    @classmethod
    def check(cls, cell, in_channels):
        problem = cls.check_options(cell, positive_ints=("steps",), booleans=("esa",), strings=("op",))
        if problem:
            return problem
        ops = step_ops(cell)
        bad = [op for op in ops if op not in CANDIDATES]
        if bad:
            return f"options.op: {bad[0]!r} is not one of {sorted(CANDIDATES)}."
        if len(ops) != cell.options.get("steps", 3):
            return f"options.op names {len(ops)} ops for {cell.options.get('steps', 3)} steps."
        if cell.channels % 2:
            return f"channels ({cell.channels}) must be even (half of them are distilled)."
        if in_channels != cell.channels:
            return f"reads {in_channels} channels but refines in place: its input must have channels={cell.channels}."
        return None

    @classmethod
    def emit(cls, g, x, cell):
        nf, act = cell.channels, cell.activation
        distilled = []
        for step, op in enumerate(step_ops(cell), 1):
            distilled.append(g.act(g.conv(x, nf // 2, 1, label=f"distill{step}"), act))
            refined = emit_candidate(g, x, op, nf)
            x = g.act(g.add(refined, x, label=f"refine{step}_residual"), act)
        distilled.append(g.act(g.conv(x, nf // 2, 3, label="last"), act))
        fused = g.conv(g.concat(distilled, label="distilled"), nf, 1, label="fuse")
        return emit_esa(g, fused, nf) if cell.options.get("esa", False) else fused
