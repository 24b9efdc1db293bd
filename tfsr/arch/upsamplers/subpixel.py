"""Sub-pixel convolution (ESPCN): conv to scale^2 * C channels, then shuffle.

With `global_skip: "anchor"` (ABPN's anchor-based residual) the LR input,
repeated scale^2 times along channels, is added *before* the shuffle:

    x ── ... ── conv (s²·C) ──(+)── depth_to_space ── out
    x ── concat([x] * s²) ─────┘

which equals adding the nearest-upsampled input after it (depth_to_space
sends channel k·C + c of each LR pixel to sub-pixel k, colour c), but
costs one add at LR resolution and keeps the sum in one quantized tensor,
so an int8 model carries the image itself, not only the residual.
"""

from tfsr.arch.registry import BLOCKS, Upsampler, register_upsampler


@register_upsampler("subpixel")
class SubPixelUpsampler(Upsampler):
    @classmethod
    def emit(cls, g, x, spec):
        y = BLOCKS[spec.upsampler.block].emit(g, x, spec.upsampler_cell())
        if spec.upsampler.global_skip == "anchor":
            lr = g.ops[0].name
            y = g.add(y, g.concat([lr] * spec.scale**2, label="anchor"), label="anchor_add")
        return g.depth_to_space(y, spec.scale)
