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

Why the layer has a `step_scale`: Adam moves every variable by about the
learning rate per step whatever its role, so a kernel that is a sum of
branches, some of them products (1x1 -> k x k), moves faster than a plain
conv's at the same learning rate: along the gradient, ECBSR's block at 16
channels 2.8 times, reading one channel (a stem) 8 times, SESR's (x16
expansion) 6 times.  Some of that speed is what the training form adds
(forced down to a plain conv's, ECBSR-M4C16 ends 0.3 dB lower after the
10k-step recipe), but at 6-8 times, at the search proxy's Adam 2e-3, most
such nets die in the first few hundred steps: their body's activations die
and only the anchor residual is left (bench/proxy_survival.py counts them).
So each branch variable is stored divided by `step_scale` and read
multiplied by it, which is the same function at initialization but makes
Adam move it `step_scale` times slower, and `step_scale` caps the deployed
kernel's speed at `MAX_DESCENT_RATE` times a plain conv's:
min(1, MAX_DESCENT_RATE / the branches' summed `descent_rate`), estimated
from the shapes at initialization.  A function of the shapes alone, so a
rebuilt layer (a resumed run) gets the same one; it is also saved in the
layer's config.
"""

import math
from types import SimpleNamespace

import keras
import numpy as np


# How much faster than a plain conv's a deployed kernel may move along the
# gradient (see the module's docstring).
MAX_DESCENT_RATE = 3.0


class Branch:
    """One linear branch of a `ReparamConv`, owning its variables.

    A branch makes its variables with `add_weight` and reads them, in
    `apply` and `kernel_and_bias`, through `weights()`: the variables as
    trained, i.e. times the layer's `step_scale` (see the module's
    docstring).
    """

    def __init__(self, layer=None, name=""):
        self.layer, self.name = layer, name
        self._variables = {}

    def add_weight(self, attr, shape, initializer="glorot_uniform", name=None):
        """Makes the variable `weights().<attr>` (`name`: its name, after the branch's)."""
        name = name or attr
        self._variables[attr] = self.layer.add_weight(
            name=f"{self.name}_{name}" if self.name else name, shape=shape, initializer=initializer
        )

    def variables(self):
        return list(self._variables.values())

    def shape(self, attr):
        return tuple(self._variables[attr].shape)

    def weights(self):
        """The branch's weights as trained: each variable times `layer.step_scale`."""
        scale = self.layer.step_scale if self._variables else 1.0
        return SimpleNamespace(**{attr: v * scale for attr, v in self._variables.items()})

    def apply(self, x):
        """The branch's output on `x` ('same' size), computed as drawn."""
        raise NotImplementedError

    def kernel_and_bias(self):
        """`(kernel (k, k, in, out), bias (out,))`: the one conv equal to `apply`."""
        raise NotImplementedError

    def descent_rate(self):
        """How fast Adam's first step (learning rate x the sign of each
        variable's gradient) moves the branch's kernel along a random
        gradient, relative to a plain conv's kernel (1.0), at initialization.
        A function of the variables' shapes (glorot-initialized factors)."""
        raise NotImplementedError


def glorot_std(shape):
    """Standard deviation of `glorot_uniform` for a conv kernel `(k, k, in, out)` or `(in, out)`."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return math.sqrt(2.0 / (receptive * (shape[-2] + shape[-1])))


def product_descent_rate(first, second):
    """`descent_rate` of a kernel that is a conv of kernel shape `first`
    `(ka, ka, in, mid)` followed by one of shape `second` `(kb, kb, mid, out)`,
    one of them 1x1, both glorot-initialized.

    With G the kernel's gradient, a sign step on the first factor moves the
    kernel along G by sum |G . second| over the first's entries, each a sum
    of kb^2 * out Gaussian terms; over sum |G|, that is
    mid * std(second) / sqrt(kb^2 * out), and symmetrically for the second
    factor.  (Measured against autodiff in tests/test_reparam.py.)
    """
    ka2, kb2 = first[0] * first[1], second[0] * second[1]
    mid, cin, out = first[-1], first[-2], second[-1]
    return mid * glorot_std(second) / math.sqrt(kb2 * out) + mid * glorot_std(first) / math.sqrt(ka2 * cin)


class ReparamConv(keras.layers.Layer):
    """A k x k, stride-1, 'same' conv parameterized as a sum of `Branch`es.

    Subclasses implement `make_branches(in_channels)`, returning the
    branches (created in `build`, so their variables belong to the layer).
    `step_scale` (default: from the branches' summed `descent_rate`, see the
    module's docstring) is how much slower than the learning rate Adam
    moves each branch variable.
    `deployed_weights()` is `[kernel, bias]` in the layout of
    `keras.layers.Conv2D(filters, kernel, padding="same")`.
    """

    def __init__(self, filters, kernel_size, step_scale=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.step_scale = None if step_scale is None else float(step_scale)
        self.branches = []

    def make_branches(self, in_channels):
        raise NotImplementedError

    def build(self, input_shape):
        self.branches = self.make_branches(int(input_shape[-1]))
        if self.step_scale is None:
            self.step_scale = min(1.0, MAX_DESCENT_RATE / sum(b.descent_rate() for b in self.branches))
        for branch in self.branches:  # stored divided by the scale, read times it: same values
            for v in branch.variables():
                v.assign(v / self.step_scale)

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
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "step_scale": self.step_scale,
        }


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
