"""Exact parameter count and mult-adds of a spec, computed analytically.

Conventions (those of the FSRCNN/FALSR/DLSR tables):

* Mult-adds are the multiply-accumulates of convolution weights only; bias
  additions, activations, additions and shuffles are free.  For ordinary,
  grouped and depthwise convolutions this is TensorFlow's profiler count of
  `Conv2D`/`DepthwiseConv2dNative` float ops divided by two.
* A transposed convolution is counted as a dense convolution over its
  *output* grid (`k^2 * C_in * C_out * H_out * W_out`), the convention under
  which FSRCNN x2 is quoted at 6.0G mult-adds for a 480x480 input.  (It does
  fewer real multiplies: TensorFlow's profiler does not count it at all.)
* Interpolation (the optional global skip), pooling and element-wise
  products are free, like other parameter-free ops.
* A strided conv is counted over its output grid, ceil(H / stride) x
  ceil(W / stride) ('same' padding).
* Parameters include biases and PReLU slopes, i.e. `model.count_params()`.
* A re-parameterizable block is priced as what ships, its one conv, unless
  `deployed=False` asks for its training form (all branches).
"""

import dataclasses
import math

from tfsr.arch.graph import lower
from tfsr.arch.registry import BLOCKS


@dataclasses.dataclass(frozen=True)
class Cost:
    params: int
    mult_adds: int

    def to_dict(self):
        return {"params": self.params, "mult_adds": self.mult_adds}


def op_cost(op, in_channels, lr_size):
    """(params, mult_adds) of one op reading `in_channels` channels, for an
    LR input of `lr_size = (height, width)`."""
    a = op.attrs
    out_pixels = math.ceil(lr_size[0] * op.upscale) * math.ceil(lr_size[1] * op.upscale)
    if op.kind == "conv":
        weights = a["kernel"] ** 2 * (in_channels // a["groups"]) * a["filters"]
        return weights + a["filters"], weights * out_pixels
    if op.kind == "reparam":
        params, macs_per_pixel = BLOCKS[a["block"]].training_cost(op, in_channels)
        return params, macs_per_pixel * out_pixels
    if op.kind == "dwconv":
        weights = a["kernel"] ** 2 * in_channels
        return weights + in_channels, weights * out_pixels
    if op.kind == "deconv":
        weights = a["kernel"] ** 2 * in_channels * a["filters"]
        return weights + a["filters"], weights * out_pixels
    if op.kind == "act" and a["kind"] == "prelu":
        return op.channels, 0
    return 0, 0


def count(spec, lr_size=(480, 480), deployed=True):
    """The `Cost` of `spec` for one LR input of `lr_size = (height, width)`.

    `deployed=False`: the training form (re-parameterizable blocks unfolded).
    """
    return count_graph(lower(spec, deployed=deployed), lr_size)


def count_graph(graph, lr_size=(480, 480)):
    """The `Cost` of an `OpGraph` (e.g. a derived form of a spec's)."""
    lr_size = (int(lr_size[0]), int(lr_size[1]))
    params = mult_adds = 0
    for op in graph.ops:
        in_channels = sum(graph[i].channels for i in op.inputs)
        p, m = op_cost(op, in_channels, lr_size)
        params += p
        mult_adds += m
    return Cost(params, mult_adds)
