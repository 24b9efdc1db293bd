"""RFDN's enhanced spatial attention (ESA): a per-pixel, per-channel gate in
(0, 1) computed at 1/6 resolution, multiplied onto the input.

With nf = `cell.channels` (the input's width) and f = max(nf // 4, 1)
(`options.reduction`, default 4, sets the divisor):

    x ─┬──────────────────────────────────────────────────────────────── * ─ out
       └ 1x1 → f ─┬ 3x3 /2 ─ maxpool 7 /3 ─ 3x3 ─ relu ─ 3x3 ─ relu ─ 3x3 ┐  │
                  │            bilinear resize to x's size ───────────────┘  │
                  └ 1x1 ──────────────────────── + ─ 1x1 → nf ─ sigmoid ─────┘

RFDN pads the stride-2 conv and the pool with nothing ('valid'); here both
use 'same' padding, so any input size works and the cost model's output
grid (ceil(H / 2), then ceil(H / 6)) is exact.  The cell's activation is
not used: ESA's own are fixed (relu inside, sigmoid gate).
"""

from tfsr.arch.registry import GateBlock, register_block


def emit_esa(g, x, channels, reduction=4):
    """Appends ESA over node `x` (of `channels` channels); returns the gated node."""
    f = max(channels // reduction, 1)
    reduced = g.conv(x, f, 1, label="esa_reduce")
    y = g.conv(reduced, f, 3, stride=2, label="esa_stride")
    y = g.maxpool(y, 7, 3, label="esa_pool")
    y = g.act(g.conv(y, f, 3, label="esa_conv_max"), "relu", label="esa_relu1")
    y = g.act(g.conv(y, f, 3, label="esa_conv3"), "relu", label="esa_relu2")
    y = g.conv(y, f, 3, label="esa_conv3b")
    y = g.resize_like(y, x, "bilinear", label="esa_upsample")
    y = g.add(y, g.conv(reduced, f, 1, label="esa_conv_f"), label="esa_sum")
    gate = g.act(g.conv(y, channels, 1, label="esa_expand"), "sigmoid", label="esa_gate")
    return g.mul(x, gate, label="esa_out")


@register_block("esa")
class EsaBlock(GateBlock):
    OPTIONS = {"positive_ints": ("reduction",)}

    @classmethod
    def emit(cls, g, x, cell):
        return emit_esa(g, x, cell.channels, cell.options.get("reduction", 4))
