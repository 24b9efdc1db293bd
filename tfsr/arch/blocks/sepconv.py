"""Depthwise-separable convolution (DARTS' and DLSR's "sep conv"): a k x k
depthwise conv, then a 1x1 conv to the cell's width, then the activation.

One depthwise + pointwise pair (DARTS stacks two, with batch norm): the
cheapest large-receptive-field op of DLSR's candidate set.
"""

from tfsr.arch.registry import Block, register_block


@register_block("sepconv")
class SepConvBlock(Block):
    @classmethod
    def check(cls, cell, in_channels):
        return cls.check_options(cell)

    @classmethod
    def emit(cls, g, x, cell):
        y = g.dwconv(x, cell.kernel, label="depthwise")
        return g.act(g.conv(y, cell.channels, 1, label="pointwise"), cell.activation)
