"""Resize-convolution (Odena et al., "Deconvolution and Checkerboard Artifacts"):
nearest-neighbour upsampling by `scale`, then a k x k conv to the image.

Every output pixel comes from the same kernel, so the scale^2 pixel phases
cannot drift apart the way a sub-pixel conv's separate channels can under
perceptual + adversarial fine-tuning (the 4-pixel grid).  But at k = 3 the
two middle pixels of each scale x scale tile see one LR cell only and come
out equal: flat tiles, which GAN training sharpens (`tfsr.metrics.blockiness`
3.4-4.3 dB at x4, bicubic 1.2-1.4); `progressive_resize_conv` has neither
artefact.  At k = 3 it costs
the sub-pixel conv's mult-adds (k^2 C x channels per HR pixel = k^2 C x
channels scale^2 per LR pixel) with scale^2 times fewer weights.
"""

from tfsr.arch.registry import Upsampler, register_upsampler


@register_upsampler("resize_conv")
class ResizeConvUpsampler(Upsampler):
    @classmethod
    def emit(cls, g, x, spec):
        y = g.upsample(x, spec.scale, "nearest", label="resize")
        return g.conv(y, spec.channels, spec.upsampler.kernel, label="conv")
