"""Dilated convolution (DLSR's "dil conv"): a k x k conv whose taps are
`options.dilation` (default 2) pixels apart, so a 3x3 sees 5x5 at the cost
of a 3x3; then the activation.  TFLite runs it as one CONV_2D."""

from tfsr.arch.registry import Block, register_block


@register_block("dilated")
class DilatedConvBlock(Block):
    @classmethod
    def check(cls, cell, in_channels):
        return cls.check_options(cell, positive_ints=("dilation",))

    @classmethod
    def emit(cls, g, x, cell):
        dilation = cell.options.get("dilation", 2)
        return g.act(g.conv(x, cell.channels, cell.kernel, dilation=dilation, label="dilated"), cell.activation)
