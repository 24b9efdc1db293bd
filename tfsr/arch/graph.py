"""Lowering of an `ArchSpec` to a flat graph of primitive ops.

The op graph is the common ground of everything that consumes a spec: the
Keras builder turns each op into a layer, the cost model sums each op's
parameters and mult-adds analytically, and the quantization path rebuilds the
same ops in `tf_keras`.  Keeping a single lowering means those consumers
cannot disagree about what a spec means.

Primitive ops (attrs in brackets):
    input                                       the LR image
    conv       [filters, kernel, groups, dilation, stride]  'same' padding, with bias
    reparam    [filters, kernel, block, options]  a re-parameterizable conv:
                                                trained as the `block`'s linear
                                                branches, deployed as one `conv`
                                                (see `tfsr.arch.reparam`)
    dwconv     [kernel]                         depthwise, with bias
    deconv     [filters, kernel, stride]        transposed conv, with bias
    act        [kind]                           relu | prelu | leaky_relu (slope
                                                `LEAKY_SLOPE`) | tanh | clip ([0, 1])
    add, concat                                 element-wise sum, channel concat
    depth_to_space [block]                      sub-pixel shuffle
    upsample   [factor, interpolation]          nearest | bilinear resize
    maxpool    [pool, stride]                   'same' padding
    resize_like [interpolation]                 resizes input 0 to input 1's height
                                                and width (bilinear)
    mul                                         element-wise product

An op's `upscale` is its resolution relative to the LR input: an int, or a
`Fraction` after strided ops (its height is ceil(H * upscale), exactly, as
'same' padding gives).
"""

import dataclasses
from fractions import Fraction
from typing import Tuple

from tfsr.arch import blocks as _blocks  # noqa: F401  (registers block types)
from tfsr.arch import upsamplers as _upsamplers  # noqa: F401
from tfsr.arch.registry import BLOCKS, UPSAMPLERS
from tfsr.arch.spec import as_spec


LEAKY_SLOPE = 0.05  # leaky_relu's negative slope, RFDN's and DLSR's


@dataclasses.dataclass(frozen=True)
class Op:
    name: str
    kind: str
    inputs: Tuple[str, ...]
    channels: int  # output channels
    upscale: int  # output resolution relative to the LR input (a Fraction when below it)
    attrs: dict


class OpGraph:
    """An append-only list of ops in topological order, with helpers.

    Blocks and upsamplers call the helpers; names are made unique from the
    current `prefix` so the same block can be emitted many times.
    """

    def __init__(self):
        self.ops = []
        self._by_name = {}
        self.prefix = ""

    def __getitem__(self, name):
        return self._by_name[name]

    def _add(self, op_kind, op_inputs, op_channels, op_upscale, label, **attrs):
        base = f"{self.prefix}{label}"
        name, n = base, 1
        while name in self._by_name:
            n += 1
            name = f"{base}_{n}"
        return self._append(Op(name, op_kind, tuple(op_inputs), op_channels, op_upscale, attrs))

    def _append(self, op):
        self.ops.append(op)
        self._by_name[op.name] = op
        return op.name

    # ---- helpers (each returns the new op's name) --------------------------
    def input(self, channels):
        return self._add("input", [], channels, 1, "lr_input")

    def conv(self, x, filters, kernel, groups=1, dilation=1, stride=1, label="conv"):
        src = self[x]
        return self._add(
            "conv", [x], filters, _strided(src.upscale, stride), label, filters=filters, kernel=kernel, groups=groups,
            dilation=dilation, stride=stride,
        )

    def reparam(self, x, filters, kernel, block, label=None, **options):
        src = self[x]
        return self._add(
            "reparam", [x], filters, src.upscale, label or block, filters=filters, kernel=kernel, block=block,
            options=options,
        )

    def dwconv(self, x, kernel, label="dwconv"):
        src = self[x]
        return self._add("dwconv", [x], src.channels, src.upscale, label, kernel=kernel)

    def deconv(self, x, filters, kernel, stride, label="deconv"):
        src = self[x]
        return self._add(
            "deconv", [x], filters, src.upscale * stride, label, filters=filters, kernel=kernel, stride=stride
        )

    def act(self, x, kind, label=None):
        if kind == "linear":
            return x
        src = self[x]
        return self._add("act", [x], src.channels, src.upscale, label or kind, kind=kind)

    def add(self, a, b, label="add"):
        src = self[a]
        return self._add("add", [a, b], src.channels, src.upscale, label)

    def concat(self, xs, label="concat"):
        if len(xs) == 1:
            return xs[0]
        channels = sum(self[x].channels for x in xs)
        return self._add("concat", list(xs), channels, self[xs[0]].upscale, label)

    def merge(self, xs, mode, label="merge"):
        """`xs` combined as a spec's `merge` says: channel concat, or a chain of adds for "sum"."""
        if mode == "concat":
            return self.concat(xs, label="concat")
        y = xs[0]
        for x in xs[1:]:
            y = self.add(y, x, label=label)
        return y

    def depth_to_space(self, x, block, label="pixel_shuffle"):
        src = self[x]
        return self._add(
            "depth_to_space", [x], src.channels // (block * block), src.upscale * block, label, block=block
        )

    def upsample(self, x, factor, interpolation, label="global_skip"):
        src = self[x]
        return self._add(
            "upsample", [x], src.channels, src.upscale * factor, label, factor=factor, interpolation=interpolation
        )

    def maxpool(self, x, pool, stride, label="maxpool"):
        src = self[x]
        return self._add("maxpool", [x], src.channels, _strided(src.upscale, stride), label, pool=pool, stride=stride)

    def resize_like(self, x, reference, interpolation="bilinear", label="resize"):
        ref = self[reference]
        return self._add("resize_like", [x, reference], self[x].channels, ref.upscale, label,
                         interpolation=interpolation)  # fmt: skip

    def mul(self, a, b, label="mul"):
        src = self[a]
        return self._add("mul", [a, b], src.channels, src.upscale, label)

    @property
    def output(self):
        return self.ops[-1].name


def _strided(upscale, stride):
    return upscale if stride == 1 else Fraction(upscale) / stride


def lower(spec, deployed=False):
    """Lowers an `ArchSpec` (or its dict) to an `OpGraph`.

    `deployed=True` gives the graph of what ships: `deploy_graph` of it.
    """
    spec = as_spec(spec)
    if deployed:
        return deploy_graph(lower(spec))
    g = OpGraph()
    x = g.input(spec.channels)

    g.prefix = "stem_"
    x = BLOCKS[spec.stem.block].emit(g, x, spec.stem.as_cell())
    nodes = [x]  # node 0 = stem, node i = output of cell i

    for i, cell in enumerate(spec.cells):
        g.prefix = f"cell{i + 1}_"
        cell_in = g.merge([nodes[j] for j in spec.cell_inputs(i)], cell.merge)
        y = cell_in
        block = BLOCKS[cell.block]
        for r in range(cell.repeats):
            g.prefix = f"cell{i + 1}_r{r + 1}_"
            y = block.emit(g, y, cell)
        g.prefix = f"cell{i + 1}_"
        if cell.residual:
            skip = cell_in
            if g[skip].channels != cell.channels:
                # Projection shortcut, as in ResNet, when the widths differ.
                skip = g.conv(skip, cell.channels, 1, label="skip_proj")
            y = g.add(y, skip, label="residual")
        nodes.append(y)

    g.prefix = "up_"
    x = g.merge([nodes[j] for j in spec.upsampler_inputs()], spec.upsampler.merge)
    y = UPSAMPLERS[spec.upsampler.type].emit(g, x, spec)  # adds an "anchor" skip itself
    if spec.upsampler.global_skip in ("nearest", "bilinear"):
        skip = g.upsample(g.ops[0].name, spec.scale, spec.upsampler.global_skip)
        y = g.add(y, skip, label="output")
    if spec.upsampler.clip:
        g.act(y, "clip", label="clip")
    return g


def deploy_graph(graph):
    """The op graph with every `reparam` op replaced by a plain `conv` op.

    Same op names, inputs and order, so weights map by name; a pure
    function of the graph (and so of the spec).
    """
    deployed = OpGraph()
    for op in graph.ops:
        if op.kind == "reparam":
            a = op.attrs
            op = dataclasses.replace(op, kind="conv", attrs={"filters": a["filters"], "kernel": a["kernel"], "groups": 1,
                                                                  "dilation": 1, "stride": 1})  # fmt: skip
        deployed._append(op)
    return deployed
