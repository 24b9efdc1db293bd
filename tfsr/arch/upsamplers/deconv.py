"""Transposed convolution with stride `scale` (FSRCNN's last layer)."""

from tfsr.arch.registry import Upsampler, register_upsampler


@register_upsampler("deconv")
class DeconvUpsampler(Upsampler):
    @classmethod
    def emit(cls, g, x, spec):
        return g.deconv(x, spec.channels, spec.upsampler.kernel, spec.scale)
