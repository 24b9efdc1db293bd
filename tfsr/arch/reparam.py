"""Re-parameterizable convolutions: trained as linear branches, deployed as one conv.

A re-parameterizable block (ECBSR's edge-oriented block, SESR's collapsible
linear block, ...) is, between its input and its activation, a *linear*
function of its input made of several branches.  Any such sum of linear
branches equals one k x k convolution with bias, so the network trains with
the richer parameterization and ships the plain conv:

    training form                          deployed form

    x ──┬─ branch 1 (kernel_1, bias_1) ─┐
        ├─ branch 2 (kernel_2, bias_2) ─┼─(+)─ act     x ── conv(K, b) ── act
        └─ ...                         ─┘
                                                     K = sum of kernel_i
                                                     b = sum of bias_i

Each branch is a `Branch`: `apply(x)` computes it the way its paper draws
it (the block's definition), `kernel_and_bias()` gives its (k x k kernel,
bias) pair.  The two must agree exactly, borders included: the tests check
every branch of every block against the deployed conv.

`ReparamConv.call` trains on the summed kernel (one conv per step, however
many branches); since the output is the same function of the branch
variables, so are the gradients (SESR trains this way; OREPA calls it
online re-parameterization).  `call_branches` runs the branches one by one.
"""

import keras


class Branch:
    """One linear branch of a `ReparamConv`, owning its variables."""

    def apply(self, x):
        """The branch's output on `x` ('same' size), computed as drawn."""
        raise NotImplementedError

    def kernel_and_bias(self):
        """`(kernel (k, k, in, out), bias (out,))`: the one conv equal to `apply`."""
        raise NotImplementedError


class ReparamConv(keras.layers.Layer):
    """A k x k, stride-1, 'same' conv parameterized as a sum of `Branch`es.

    Subclasses implement `make_branches(in_channels)`, returning the
    branches (created in `build`, so their variables belong to the layer).
    `deployed_weights()` is `[kernel, bias]` in the layout of
    `keras.layers.Conv2D(filters, kernel, padding="same")`.
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.branches = []

    def make_branches(self, in_channels):
        raise NotImplementedError

    def build(self, input_shape):
        self.branches = self.make_branches(int(input_shape[-1]))

    def fused(self):
        """`(kernel, bias)` of the single conv this layer equals."""
        pairs = [b.kernel_and_bias() for b in self.branches]
        kernel = pairs[0][0]
        bias = pairs[0][1]
        for k, b in pairs[1:]:
            kernel, bias = kernel + k, bias + b
        return kernel, bias

    def call(self, inputs):
        kernel, bias = self.fused()
        return keras.ops.conv(inputs, kernel, padding="same") + bias

    def call_branches(self, inputs):
        """The training form computed branch by branch (the definition)."""
        outputs = [b.apply(inputs) for b in self.branches]
        total = outputs[0]
        for y in outputs[1:]:
            total = total + y
        return total

    def deployed_weights(self):
        return [keras.ops.convert_to_numpy(w) for w in self.fused()]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}


def same_pad(x, kernel_size):
    """Zero padding that makes a following 'valid' k x k conv keep the size."""
    before = (kernel_size - 1) // 2
    after = kernel_size - 1 - before
    return keras.ops.pad(x, [[0, 0], [before, after], [before, after], [0, 0]])


def deployed_weights(layer):
    """The weights of `layer` in the deployed form (a `ReparamConv` collapses)."""
    if isinstance(layer, ReparamConv):
        return layer.deployed_weights()
    return [keras.ops.convert_to_numpy(w) for w in layer.get_weights()]


def deploy(model, spec):
    """The deployed Keras model of a trained `model` of `spec` (any form).

    Every re-parameterizable layer becomes one conv holding its summed
    kernel and bias; every other layer keeps its weights.  Layers are
    matched by name (the op names of the spec's graph).
    """
    from tfsr.arch.builder import build_model

    deployed = build_model(spec, deployed=True)
    source = {layer.name: layer for layer in model.layers}
    for layer in deployed.layers:
        if layer.weights:
            layer.set_weights(deployed_weights(source[layer.name]))
    return deployed
