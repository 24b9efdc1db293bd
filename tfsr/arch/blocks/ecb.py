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

import keras
import numpy as np

from tfsr.arch.reparam import Branch, ReparamConv, same_pad
from tfsr.arch.registry import ReparamBlock, register_block

EDGE_MASKS = {
    "sobel_x": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32),
    "sobel_y": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32),
    "laplacian": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
}


class _Conv(Branch):
    """A plain k x k conv with bias."""

    def __init__(self, layer, in_channels, name):
        k, out = layer.kernel_size, layer.filters
        self.kernel = layer.add_weight(name=f"{name}_kernel", shape=(k, k, in_channels, out), initializer="glorot_uniform")
        self.bias = layer.add_weight(name=f"{name}_bias", shape=(out,), initializer="zeros")

    def apply(self, x):
        return keras.ops.conv(x, self.kernel, padding="same") + self.bias

    def kernel_and_bias(self):
        return self.kernel, self.bias


class _ExpandConv(Branch):
    """1x1 conv to `mid` channels, then a 3x3 conv back to `out`."""

    def __init__(self, layer, in_channels, mid, name):
        out = layer.filters
        self.w1 = layer.add_weight(name=f"{name}_1x1_kernel", shape=(1, 1, in_channels, mid), initializer="glorot_uniform")
        self.b1 = layer.add_weight(name=f"{name}_1x1_bias", shape=(mid,), initializer="zeros")
        self.w2 = layer.add_weight(name=f"{name}_3x3_kernel", shape=(3, 3, mid, out), initializer="glorot_uniform")
        self.b2 = layer.add_weight(name=f"{name}_3x3_bias", shape=(out,), initializer="zeros")

    def apply(self, x):
        y = keras.ops.conv(same_pad(x, 3), self.w1) + self.b1  # the ring holds b1
        return keras.ops.conv(y, self.w2, padding="valid") + self.b2

    def kernel_and_bias(self):
        kernel = keras.ops.einsum("im,yxmo->yxio", self.w1[0, 0], self.w2)
        bias = self.b2 + keras.ops.einsum("m,mo->o", self.b1, keras.ops.sum(self.w2, axis=(0, 1)))
        return kernel, bias


class _EdgeConv(Branch):
    """1x1 conv, then a fixed 3x3 depthwise mask with a learned per-channel scale and bias."""

    def __init__(self, layer, in_channels, mask, name):
        out = layer.filters
        small = keras.initializers.RandomNormal(stddev=1e-3)
        self.mask = mask
        self.w1 = layer.add_weight(name=f"{name}_1x1_kernel", shape=(1, 1, in_channels, out), initializer="glorot_uniform")
        self.b1 = layer.add_weight(name=f"{name}_1x1_bias", shape=(out,), initializer="zeros")
        self.scale = layer.add_weight(name=f"{name}_scale", shape=(out,), initializer=small)
        self.bias = layer.add_weight(name=f"{name}_bias", shape=(out,), initializer=small)

    def _depthwise_kernel(self):
        return keras.ops.convert_to_tensor(self.mask)[:, :, None] * self.scale  # (3, 3, out)

    def apply(self, x):
        y = keras.ops.conv(same_pad(x, 3), self.w1) + self.b1  # the ring holds b1
        return keras.ops.depthwise_conv(y, self._depthwise_kernel()[..., None], padding="valid") + self.bias

    def kernel_and_bias(self):
        kernel = self.w1[0, 0][None, None] * self._depthwise_kernel()[:, :, None, :]
        bias = self.bias + self.b1 * self.scale * float(self.mask.sum())
        return kernel, bias


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
