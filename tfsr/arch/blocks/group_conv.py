"""Grouped convolution (FALSR's "group conv", g = 2 or 4) + activation."""

from tfsr.arch.registry import Block, register_block


class _GroupConvBlock(Block):
    groups = None

    @classmethod
    def check(cls, cell, in_channels):
        # Every repeat after the first reads `cell.channels` channels.
        for width, what in ((in_channels, "input channels"), (cell.channels, "channels")):
            if width % cls.groups:
                return f"{what} ({width}) must be divisible by groups={cls.groups}."
        return None

    @classmethod
    def emit(cls, g, x, cell):
        return g.act(g.conv(x, cell.channels, cell.kernel, groups=cls.groups, label="gconv"), cell.activation)


@register_block("group_conv2")
class GroupConv2Block(_GroupConvBlock):
    groups = 2


@register_block("group_conv4")
class GroupConv4Block(_GroupConvBlock):
    groups = 4
