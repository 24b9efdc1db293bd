"""Plain convolution followed by the cell's activation."""

from tfsr.arch.registry import Block, register_block


@register_block("conv")
class ConvBlock(Block):
    @classmethod
    def emit(cls, g, x, cell):
        return g.act(g.conv(x, cell.channels, cell.kernel), cell.activation)
