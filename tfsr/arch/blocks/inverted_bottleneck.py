"""MobileNetV2 inverted bottleneck: 1x1 expand, kxk depthwise, 1x1 project.

The projection is linear, as in MobileNetV2; `options.expansion` defaults to
2 (FALSR's setting).
"""

from tfsr.arch.registry import Block, register_block


@register_block("inverted_bottleneck")
class InvertedBottleneckBlock(Block):
    @classmethod
    def check(cls, cell, in_channels):
        expansion = cell.options.get("expansion", 2)
        if not isinstance(expansion, int) or expansion < 1:
            return f"options.expansion must be a positive integer, got {expansion!r}."
        unknown = set(cell.options) - {"expansion"}
        return f"unknown options {sorted(unknown)}." if unknown else None

    @classmethod
    def emit(cls, g, x, cell):
        expanded = g[x].channels * cell.options.get("expansion", 2)
        y = g.act(g.conv(x, expanded, 1, label="expand"), cell.activation)
        y = g.act(g.dwconv(y, cell.kernel), cell.activation)
        return g.conv(y, cell.channels, 1, label="project")
