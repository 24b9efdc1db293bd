"""PAN's pixel attention (Zhao et al., ECCV 2020 workshops): a per-pixel,
per-channel gate in (0, 1) from one 1x1 conv, multiplied onto the input.

    x ─┬────────────────────────── * ─ out
       └─ 1x1 conv (nf) ─ sigmoid ─┘

It costs nf² mult-adds per pixel, a ninth of a 3x3 conv of the same width:
the cheapest content-dependent weighting a tiny net can add.  It gates in
place (its input has the cell's width), the cell's activation is not used
(the gate's is the sigmoid), and it does not re-parameterize: the deployed
form keeps the conv, the sigmoid and the product.
"""

from tfsr.arch.registry import GateBlock, register_block


def emit_pixel_attention(g, x, channels):
    """Appends pixel attention over node `x` (of `channels` channels); returns the gated node."""
    gate = g.act(g.conv(x, channels, 1, label="pa_conv"), "sigmoid", label="pa_gate")
    return g.mul(x, gate, label="pa_out")


@register_block("pixel_attention")
class PixelAttentionBlock(GateBlock):
    @classmethod
    def emit(cls, g, x, cell):
        return emit_pixel_attention(g, x, cell.channels)
