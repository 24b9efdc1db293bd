"""Resize-convolution in factor-2 steps (ESRGAN's upsampler, with the network's activation):

    x ── nearest x2 ── 3x3 conv (C) ── act ── nearest x2 ── k x k conv (out) ── SR      (x4)

A one-step resize-conv (`resize_conv`: nearest x4, then 3x3) leaves flat
4x4 tiles: its 3-pixel window sees a single LR cell at the two middle
pixels of each tile, so they come out equal, and perceptual + adversarial
training sharpens the steps between tiles (`tfsr.metrics.blockiness`).
After a x2 step every 3-pixel window spans two cells, so no output pixel
repeats its neighbour, and the activation between the steps lets the x2
features carry detail the last conv places at full resolution.  There are
no per-phase output channels either, so no pixel-phase grid (the sub-pixel
tail's failure).  Factors: 2 per step while the scale is even (x2, x4, x8),
one step of the whole scale otherwise (x3).

Cost at x4 with C = 16 -> 3: 9*C*C per x2 pixel + 9*C*3 per x4 pixel =
16.1K mult-adds per LR pixel, 2.3 times a 3x3 sub-pixel tail's.
"""

from tfsr.arch.registry import Upsampler, register_upsampler


def factor_steps(scale):
    """The resize factors, in order, whose product is `scale`: 2s while even, then what is left."""
    steps = []
    while scale % 2 == 0 and scale > 1:
        steps.append(2)
        scale //= 2
    return steps + ([scale] if scale > 1 else [])


@register_upsampler("progressive_resize_conv")
class ProgressiveResizeConvUpsampler(Upsampler):
    @classmethod
    def emit(cls, g, x, spec):
        steps = factor_steps(spec.scale)
        width = g[x].channels
        for i, factor in enumerate(steps):
            x = g.upsample(x, factor, "nearest", label="resize")
            if i < len(steps) - 1:
                x = g.act(g.conv(x, width, 3, label="resize_conv"), spec.stem.activation, label="resize_act")
        return g.conv(x, spec.channels, spec.upsampler.kernel, label="conv")
