"""ECBSR's edge-oriented convolution block (Zhang et al., ACM MM 2021).

Five linear branches, summed, then the cell's activation:

    x ──┬─ 3x3 conv ─────────────────────────────────────┐
        ├─ 1x1 conv (out·expansion) ── 3x3 conv ──────────┤
        ├─ 1x1 conv ── Sobel-x mask · scale + bias ───────┼─(+)─ act
        ├─ 1x1 conv ── Sobel-y mask · scale + bias ───────┤
        └─ 1x1 conv ── Laplacian mask · scale + bias ─────┘

The masks are fixed 3x3 depthwise kernels; each channel learns only their
scale and a bias.  Deployed, the block is one 3x3 conv.

Why the 1x1 outputs are padded with their bias: a 1x1 conv followed by a
3x3 equals one 3x3 conv on the zero-padded input only if the 1x1 output's
padding ring holds what the 1x1 conv gives for a zero pixel, its bias.  So
each `apply` pads the *input* with zeros and runs the 1x1 conv (bias
included) and then the 3x3 'valid'; padding the 1x1 output with zeros
instead would make the borders differ from the deployed conv.

`options.expansion` (default 2, ECBSR's depth multiplier) widens the
1x1 -> 3x3 branch.  The kernel must be 3.
"""

import math

import keras
import numpy as np

from tfsr.arch.reparam import Branch, ReparamConv, glorot_std, product_descent_rate, same_pad
from tfsr.arch.registry import ReparamBlock, register_block

EDGE_MASKS = {
    "sobel_x": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    "sobel_y": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
}


class _Conv(Branch):
    """A plain k x k conv with bias."""

    def __init__(self, layer, in_channels, name):
        super().__init__(layer, name)
        k, out = layer.kernel_size, layer.filters
        self.add_weight("kernel", (k, k, in_channels, out))
        self.add_weight("bias", (out,), "zeros")

    def apply(self, x):
        w = self.weights()
        return keras.ops.conv(x, w.kernel, padding="same") + w.bias

    def kernel_and_bias(self):
        w = self.weights()
        return w.kernel, w.bias

    def descent_rate(self):
        return 1.0  # every tap moves by the learning rate along its gradient's sign


class _ExpandConv(Branch):
    """1x1 conv to `mid` channels, then a 3x3 conv back to `out`."""

    def __init__(self, layer, in_channels, mid, name):
        super().__init__(layer, name)
        out = layer.filters
        self.add_weight("w1", (1, 1, in_channels, mid), name="1x1_kernel")
        self.add_weight("b1", (mid,), "zeros", name="1x1_bias")
        self.add_weight("w2", (3, 3, mid, out), name="3x3_kernel")
        self.add_weight("b2", (out,), "zeros", name="3x3_bias")

    def apply(self, x):
        w = self.weights()
        y = keras.ops.conv(same_pad(x, 3), w.w1) + w.b1  # the ring holds b1
        return keras.ops.conv(y, w.w2, padding="valid") + w.b2

    def kernel_and_bias(self):
        w = self.weights()
        kernel = keras.ops.einsum("im,yxmo->yxio", w.w1[0, 0], w.w2)
        bias = w.b2 + keras.ops.einsum("m,mo->o", w.b1, keras.ops.sum(w.w2, axis=(0, 1)))
        return kernel, bias

    def descent_rate(self):
        return product_descent_rate(self.shape("w1"), self.shape("w2"))


class _EdgeConv(Branch):
    """1x1 conv, then a fixed 3x3 depthwise mask with a learned per-channel scale and bias."""

    SCALE_INIT_STD = 1e-3

    def __init__(self, layer, in_channels, mask, name):
        super().__init__(layer, name)
        out = layer.filters
        small = keras.initializers.RandomNormal(stddev=self.SCALE_INIT_STD)
        self.mask = mask
        self.add_weight("w1", (1, 1, in_channels, out), name="1x1_kernel")
        self.add_weight("b1", (out,), "zeros", name="1x1_bias")
        self.add_weight("scale", (out,), small)
        self.add_weight("bias", (out,), small)

    def _depthwise_kernel(self, w):
        return keras.ops.convert_to_tensor(self.mask)[:, :, None] * w.scale  # (3, 3, out)

    def apply(self, x):
        w = self.weights()
        y = keras.ops.conv(same_pad(x, 3), w.w1) + w.b1  # the ring holds b1
        return keras.ops.depthwise_conv(y, self._depthwise_kernel(w)[..., None], padding="valid") + w.bias

    def kernel_and_bias(self):
        w = self.weights()
        kernel = w.w1[0, 0][None, None] * self._depthwise_kernel(w)[:, :, None, :]
        bias = w.bias + w.b1 * w.scale * float(self.mask.sum())
        return kernel, bias

    def descent_rate(self):
        # The kernel is w1[i, o] * mask * scale[o].  A step on the scale moves
        # it along G by |mask| * std(w1) / (9 sqrt(in)); a step on w1 by
        # |mask| * E|scale| / 9, about 1e-4 at the scale's initialization.
        shape = self.shape("w1")
        norm = float(np.sqrt((self.mask**2).sum()))
        scale_abs = self.SCALE_INIT_STD * math.sqrt(2 / math.pi)
        return norm * glorot_std(shape) / (9 * math.sqrt(shape[-2])) + norm * scale_abs / 9


@keras.saving.register_keras_serializable(package="tfsr")
class EdgeOrientedConv(ReparamConv):
    """ECBSR's edge-oriented conv block (without its activation)."""

    def __init__(self, filters, kernel_size=3, expansion=2, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.expansion = int(expansion)

    def make_branches(self, in_channels):
        return [
            _Conv(self, in_channels, "conv3x3"),
            _ExpandConv(self, in_channels, self.filters * self.expansion, "expand"),
            *(_EdgeConv(self, in_channels, mask, name) for name, mask in EDGE_MASKS.items()),
        ]

    def get_config(self):
        return {**super().get_config(), "expansion": self.expansion}


@register_block("ecb")
class ECBBlock(ReparamBlock):
    @classmethod
    def check(cls, cell, in_channels):
        if cell.kernel != 3:
            return f"an ecb block is 3x3; kernel must be 3, got {cell.kernel}."
        return cls.check_options(cell, positive_ints=("expansion",))

    @classmethod
    def emit(cls, g, x, cell):
        y = g.reparam(x, cell.channels, 3, block="ecb", expansion=cell.options.get("expansion", 2))
        return g.act(y, cell.activation)

    @classmethod
    def make_layer(cls, op):
        return EdgeOrientedConv(op.attrs["filters"], 3, name=op.name, **op.attrs["options"])

    @classmethod
    def training_cost(cls, op, in_channels):
        out = op.attrs["filters"]
        mid = out * op.attrs["options"]["expansion"]
        macs = 9 * in_channels * out + (in_channels * mid + 9 * mid * out) + 3 * (in_channels * out + 9 * out)
        params = (9 * in_channels * out + out) + (in_channels * mid + mid + 9 * mid * out + out)
        params += 3 * (in_channels * out + 3 * out)  # 1x1 kernel and bias, scale, bias
        return params, macs
