"""Sub-pixel convolution (ESPCN): conv to scale^2 * C channels, then shuffle."""

from tfsr.arch.registry import Upsampler, register_upsampler


@register_upsampler("subpixel")
class SubPixelUpsampler(Upsampler):
    @classmethod
    def emit(cls, g, x, spec):
        y = g.conv(x, spec.channels * spec.scale**2, spec.upsampler.kernel)
        return g.depth_to_space(y, spec.scale)
