"""Registries of block types and upsamplers.

A new block type is a new module in `tfsr/arch/blocks/` that subclasses
`Block` and decorates it with `@register_block("name")`; the spec validator,
the op-graph lowering and so every builder and the cost model pick it up.
"""

BLOCKS = {}
UPSAMPLERS = {}


def register_block(name):
    def decorator(cls):
        cls.name = name
        BLOCKS[name] = cls
        return cls

    return decorator


def register_upsampler(name):
    def decorator(cls):
        cls.name = name
        UPSAMPLERS[name] = cls
        return cls

    return decorator


class Block:
    """One repeatable unit of a cell, emitted as primitive ops.

    Contract: `emit(g, x, cell)` appends ops to the `OpGraph` `g`, reading
    node `x` (any channel count) and returning a node with `cell.channels`
    channels at the same resolution.
    """

    name = None

    @classmethod
    def check(cls, cell, in_channels):
        """Returns a message if `cell` cannot be built on `in_channels` inputs."""
        return None

    @classmethod
    def emit(cls, g, x, cell):
        raise NotImplementedError

    @staticmethod
    def check_options(cell, positive_ints=(), booleans=(), strings=()):
        """A message for an unknown option or one of the wrong type in `cell.options`, else None."""
        unknown = set(cell.options) - set(positive_ints) - set(booleans) - set(strings)
        if unknown:
            return f"unknown options {sorted(unknown)}."
        for name in positive_ints:
            value = cell.options.get(name, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                return f"options.{name} must be a positive integer, got {value!r}."
        for name in booleans:
            if not isinstance(cell.options.get(name, True), bool):
                return f"options.{name} must be true or false, got {cell.options[name]!r}."
        for name in strings:
            if not isinstance(cell.options.get(name, ""), str):
                return f"options.{name} must be a string, got {cell.options[name]!r}."
        return None


class GateBlock(Block):
    """A block that multiplies its input in place by a gate it computes from
    it (`esa`, `pixel_attention`): it reads as many channels as it writes,
    and the cell's activation is not used.  `OPTIONS`: the keyword arguments
    of `check_options` for its options."""

    OPTIONS = {}

    @classmethod
    def check(cls, cell, in_channels):
        problem = cls.check_options(cell, **cls.OPTIONS)
        if problem:
            return problem
        if in_channels != cell.channels:
            return f"reads {in_channels} channels but gates in place: its input must have channels={cell.channels}."
        return None


class ReparamBlock(Block):
    """A block whose conv is re-parameterizable (`tfsr.arch.reparam`).

    It emits a `reparam` op (deployed as one plain conv) and says how to
    build that op's training-form Keras layer and what the training form
    costs; the deployed form is priced as the plain conv.
    """

    @classmethod
    def make_layer(cls, op):
        """The `ReparamConv` layer of `op` (a `reparam` op of this block)."""
        raise NotImplementedError

    @classmethod
    def training_cost(cls, op, in_channels):
        """`(params, mult_adds per output pixel)` of the training form."""
        raise NotImplementedError


class Upsampler:
    """Maps LR features to the output image, `scale` times larger.

    Contract: `emit(g, x, spec)` returns a node with `spec.channels` channels
    at `spec.scale` times the input resolution.
    """

    name = None

    @classmethod
    def emit(cls, g, x, spec):
        raise NotImplementedError
