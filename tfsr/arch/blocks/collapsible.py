"""SESR's collapsible linear block (Bhardwaj et al., MLSys 2022).

A k x k conv expanding to p channels and a 1x1 conv projecting back, with
no nonlinearity between, plus the short residual; then the cell's activation:

    x ──┬─ k x k conv (p = out·expansion) ── 1x1 conv (out) ──┐
        └─ identity (when in == out and options.residual) ─────┴─(+)─ act

Deployed, it is one k x k conv: the kernel is the k x k kernel projected by
the 1x1 (`einsum("yxip,po->yxio")`), plus a centred identity kernel for the
residual.  The biases are carried separately (k x k bias projected by the
1x1, plus the 1x1 bias): collapsing by pushing an identity image through
the biased convs, as public code does, adds the bias to every kernel tap.

`options.expansion` (default 16: SESR's 16 -> 256 channels) and
`options.residual` (default true; only possible when the block reads as
many channels as it writes).
"""

import keras
import numpy as np

from tfsr.arch.reparam import Branch, ReparamConv, product_descent_rate
from tfsr.arch.registry import ReparamBlock, register_block


class _ExpandProject(Branch):
    """k x k conv to `mid` channels, then a 1x1 conv to `out`; linear."""

    def __init__(self, layer, in_channels, mid):
        super().__init__(layer)
        k, out = layer.kernel_size, layer.filters
        self.add_weight("w1", (k, k, in_channels, mid), name="expand_kernel")
        self.add_weight("b1", (mid,), "zeros", name="expand_bias")
        self.add_weight("w2", (1, 1, mid, out), name="project_kernel")
        self.add_weight("b2", (out,), "zeros", name="project_bias")

    def apply(self, x):
        w = self.weights()
        y = keras.ops.conv(x, w.w1, padding="same") + w.b1
        return keras.ops.conv(y, w.w2) + w.b2

    def kernel_and_bias(self):
        w = self.weights()
        kernel = keras.ops.einsum("yxip,po->yxio", w.w1, w.w2[0, 0])
        bias = keras.ops.einsum("p,po->o", w.b1, w.w2[0, 0]) + w.b2
        return kernel, bias

    def descent_rate(self):
        return product_descent_rate(self.shape("w1"), self.shape("w2"))


class _Identity(Branch):
    """The short residual: a k x k kernel with 1 at the centre of each channel's own tap."""

    def __init__(self, kernel_size, channels):
        super().__init__()
        kernel = np.zeros((kernel_size, kernel_size, channels, channels), np.float32)
        centre = (kernel_size - 1) // 2
        kernel[centre, centre] = np.eye(channels, dtype=np.float32)
        self.kernel, self.bias = kernel, np.zeros((channels,), np.float32)

    def apply(self, x):
        return x

    def kernel_and_bias(self):
        return keras.ops.convert_to_tensor(self.kernel), keras.ops.convert_to_tensor(self.bias)

    def descent_rate(self):
        return 0.0  # fixed


@keras.saving.register_keras_serializable(package="tfsr")
class CollapsibleConv(ReparamConv):
    """SESR's collapsible linear block (without its activation)."""

    def __init__(self, filters, kernel_size=3, expansion=16, residual=True, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.expansion, self.residual = int(expansion), bool(residual)

    def make_branches(self, in_channels):
        branches = [_ExpandProject(self, in_channels, self.filters * self.expansion)]
        if self.residual and in_channels == self.filters:
            branches.append(_Identity(self.kernel_size, self.filters))
        return branches

    def get_config(self):
        return {**super().get_config(), "expansion": self.expansion, "residual": self.residual}


@register_block("collapsible")
class CollapsibleBlock(ReparamBlock):
    @classmethod
    def check(cls, cell, in_channels):
        if cell.kernel % 2 == 0:
            return f"kernel must be odd (the residual sits at the kernel's centre), got {cell.kernel}."
        return cls.check_options(cell, positive_ints=("expansion",), booleans=("residual",))

    @classmethod
    def emit(cls, g, x, cell):
        options = {"expansion": cell.options.get("expansion", 16), "residual": cell.options.get("residual", True)}
        return g.act(g.reparam(x, cell.channels, cell.kernel, block="collapsible", **options), cell.activation)

    @classmethod
    def make_layer(cls, op):
        return CollapsibleConv(op.attrs["filters"], op.attrs["kernel"], name=op.name, **op.attrs["options"])

    @classmethod
    def training_cost(cls, op, in_channels):
        k, out = op.attrs["kernel"], op.attrs["filters"]
        mid = out * op.attrs["options"]["expansion"]
        return (k * k * in_channels * mid + mid + mid * out + out), (k * k * in_channels * mid + mid * out)
