"""`ArchSpec` -> `keras.Model`, through the shared op graph.

The model takes float LR images in [0, 1] of any height and width, shape
`(batch, H, W, spec.channels)`, and returns `(batch, H * s, W * s,
spec.channels)`.  Outputs are not clipped, so the loss sees the raw values.
"""

import keras

from tfsr.arch.graph import LEAKY_SLOPE, lower
from tfsr.arch.layers import ChannelSplit, PixelShuffle, ResizeLike
from tfsr.arch.registry import BLOCKS
from tfsr.arch.spec import as_spec

# PReLU slopes at initialization after a re-parameterizable block: 0.25 (He
# et al.'s PReLU, PyTorch's, so ECBSR's and SESR's).  Those blocks' kernels
# move fast early on, and a PReLU that starts as a ReLU (Keras's 0) often
# died there on every input before learning a slope (bench/proxy_survival.py:
# ECBSR-M4C16 ecb dead 1 of 3 proxy runs at 0, 0 of 3 at 0.25).  After plain
# convs the slopes start at 0: at 0.25 ECBSR-M4C16's plain-conv net ended
# the 10k-step recipe lower (36.43 / 32.24 against 36.51 / 32.29 dB on Set5
# / Set14), FSRCNN 0.3 dB under two earlier runs from 0 (35.19 on Set5).
REPARAM_PRELU_INIT = 0.25


def make_layer(op, producer=None):
    """The Keras layer of one op (of any kind but input)."""
    a = op.attrs
    if op.kind == "conv":
        if a["groups"] > 1:
            return _GroupedConv(op)
        return keras.layers.Conv2D(a["filters"], a["kernel"], strides=a.get("stride", 1), padding="same",
                                   dilation_rate=a["dilation"], name=op.name)  # fmt: skip
    if op.kind == "reparam":
        return BLOCKS[a["block"]].make_layer(op)
    if op.kind == "dwconv":
        return keras.layers.DepthwiseConv2D(a["kernel"], padding="same", name=op.name)
    if op.kind == "deconv":
        return keras.layers.Conv2DTranspose(
            a["filters"], a["kernel"], strides=a["stride"], padding="same", name=op.name
        )
    if op.kind == "act":
        if a["kind"] == "prelu":
            # One slope per channel; shared over space so any H, W works.
            slope = REPARAM_PRELU_INIT if producer is not None and producer.kind == "reparam" else 0.0
            return keras.layers.PReLU(
                alpha_initializer=keras.initializers.Constant(slope), shared_axes=[1, 2], name=op.name
            )
        if a["kind"] == "clip":
            return keras.layers.ReLU(max_value=1.0, name=op.name)
        if a["kind"] == "leaky_relu":
            return keras.layers.LeakyReLU(LEAKY_SLOPE, name=op.name)
        return keras.layers.Activation(a["kind"], name=op.name)
    if op.kind == "add":
        return keras.layers.Add(name=op.name)
    if op.kind == "concat":
        return keras.layers.Concatenate(name=op.name)
    if op.kind == "upsample":
        return keras.layers.UpSampling2D(a["factor"], interpolation=a["interpolation"], name=op.name)
    if op.kind == "depth_to_space":
        return PixelShuffle(a["block"], name=op.name)
    if op.kind == "maxpool":
        return keras.layers.MaxPooling2D(a["pool"], a["stride"], padding="same", name=op.name)
    if op.kind == "resize_like":
        return ResizeLike(a["interpolation"], name=op.name)
    if op.kind == "mul":
        return keras.layers.Multiply(name=op.name)
    raise ValueError(f"no Keras layer for op kind {op.kind!r}")


class _GroupedConv:
    """A grouped conv as split -> one Conv2D per group -> concat.

    Keras' `Conv2D(groups=g)` runs on TensorFlow-CPU through per-shape XLA
    functions: a 9K-param spec with five grouped convs trained at 3.2
    steps/s that way and at 48.6 steps/s split (2-core CPU). Split
    convs use the ordinary kernels, convert to TFLite as plain ops and have
    exactly the same parameters and mult-adds.
    """

    def __init__(self, op):
        a = op.attrs
        self.split = ChannelSplit(a["groups"], name=f"{op.name}_split")
        self.convs = [
            keras.layers.Conv2D(a["filters"] // a["groups"], a["kernel"], padding="same", name=f"{op.name}_g{k}")
            for k in range(a["groups"])
        ]
        self.concat = keras.layers.Concatenate(name=op.name)

    def __call__(self, x):
        parts = self.split(x)
        return self.concat([conv(part) for conv, part in zip(self.convs, parts)])


def build_model(spec, deployed=False):
    """Builds the Keras generator of `spec` (an `ArchSpec` or its dict).

    `deployed=False` builds the training form (re-parameterizable blocks as
    their branches), `deployed=True` what ships (each of them one conv);
    `tfsr.arch.deploy` maps the weights of one onto the other.
    """
    spec = as_spec(spec)
    return model_of_graph(lower(spec, deployed=deployed), spec.name)


def model_of_graph(graph, name):
    """The Keras model of an `OpGraph` (one layer per op, named as the op)."""
    tensors = {}
    for op in graph.ops:
        if op.kind == "input":
            tensors[op.name] = keras.Input(shape=(None, None, op.channels), name=op.name)
            continue
        inputs = [tensors[i] for i in op.inputs]
        producer = graph[op.inputs[0]] if op.inputs else None
        tensors[op.name] = make_layer(op, producer)(inputs if len(inputs) > 1 else inputs[0])
    return keras.Model(tensors[graph.ops[0].name], tensors[graph.output], name=name)
