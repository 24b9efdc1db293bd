"""Channel ranges equalized before int8, exactly (the float function is unchanged).

An int8 activation tensor has one scale for all its channels, set by its
widest channel, so a channel whose values span a tenth of that uses a
tenth of the 256 levels.  Weights are quantized per output channel.  So
for a conv whose output passes through a positively homogeneous activation
(ReLU, PReLU, leaky ReLU: f(s z) = s f(z) for s > 0) into convs only,
channel c can be scaled up by s_c in the producer and down in its readers:

    x ── conv(W, b) ── act ── conv(V, d)      x ── conv(W s, b s) ── act ── conv(V / s, d)
                                                   (output column c x s_c)     (input row c / s_c)

Same float function; every channel of the activation then spans about the
widest one's range.  s_c = (widest channel's max |value|) / (channel c's),
measured on calibration patches, at most `MAX_SCALE`; a channel that is
zero on every patch keeps s_c = 1.  Measured on FSRCNN (x2, 10k steps,
PTQ min/max, Set5 / Set14 drop; bench/equalize.py): 0.763 / 0.387 dB ->
0.201 / 0.103.  On an earlier FSRCNN run (0.400 / 0.187 -> 0.264 / 0.134)
Nagel et al.'s cross-layer equalization, which balances weight ranges
instead, reached 0.365 / 0.173.  (DFQ, ICCV 2019, is where the rescaling
comes from.)

`equalizable_acts` finds where it applies in a deployed `OpGraph`,
`equalize_weights` rewrites the weights; both are pure functions of what
they are given, and `equalize_model` applies them to a Keras 3 model of a
spec with ranges measured on patches.
"""

import numpy as np

from tfsr.arch.prelu_split import _consumers, acts_between_convs

MAX_SCALE = 64.0  # no channel is scaled up more (near-dead channels)
HOMOGENEOUS = ("relu", "prelu", "leaky_relu")


def equalizable_acts(graph):
    """Names of the activation ops of a deployed `graph` whose channels can be
    rescaled: a homogeneous activation of a plain conv read by nothing else,
    read only by plain or transposed convs."""
    return acts_between_convs(graph, HOMOGENEOUS)


def channel_scales(max_abs):
    """s_c for one activation from its channels' max |value| on the calibration patches."""
    max_abs = np.asarray(max_abs, np.float64)
    widest = max_abs.max()
    if widest <= 0:
        return np.ones_like(max_abs, np.float32)
    scales = np.where(max_abs > 0, widest / np.maximum(max_abs, 1e-30), 1.0)
    return np.minimum(scales, MAX_SCALE).astype(np.float32)


def equalize_weights(graph, weights, max_abs):
    """The weights of `graph` with every equalizable activation's channels rescaled.

    `weights`: {op name: [arrays]} as Keras keeps them (conv kernel
    (k, k, in, out) and bias; transposed conv kernel (k, k, out, in) and
    bias; PReLU slopes, unchanged).  `max_abs`: {activation op name: (C,)
    max |value| per channel on calibration data}; activations not in it
    are left alone.  Returns a new dict."""
    readers = _consumers(graph)
    out = {name: list(arrays) for name, arrays in weights.items()}
    for name in equalizable_acts(graph):
        if name not in max_abs:
            continue
        s = channel_scales(max_abs[name])
        producer = graph[name].inputs[0]
        kernel, bias = out[producer]
        out[producer] = [kernel * s, bias * s]
        for reader in readers[name]:
            kernel, *rest = out[reader.name]
            axis = 3 if reader.kind == "deconv" else 2  # the input-channel axis
            shape = [1, 1, 1, 1]
            shape[axis] = s.size
            out[reader.name] = [kernel / s.reshape(shape), *rest]
    return out


def equalize_model(model, spec, patches, batch_size=32):
    """A deployed Keras 3 model of `spec` equal to `model` (any form) with the
    activation ranges equalized, measured on `patches` (LR `(1, h, w, C)`)."""
    import keras

    from tfsr.arch.builder import build_model
    from tfsr.arch.graph import lower
    from tfsr.arch.reparam import deploy

    deployed = deploy(model, spec)
    graph = lower(spec, deployed=True)
    names = equalizable_acts(graph)
    if not names:
        return deployed
    probe = keras.Model(deployed.inputs[0], [deployed.get_layer(n).output for n in names])
    max_abs = {n: 0.0 for n in names}
    for start in range(0, len(patches), batch_size):
        batch = patches[start : start + batch_size]
        if len({p.shape for p in batch}) > 1:  # patches of several sizes: one by one
            batches = batch
        else:
            batches = [np.concatenate(batch)]
        for x in batches:
            outputs = probe(x)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            for n, y in zip(names, outputs):
                y = np.abs(keras.ops.convert_to_numpy(y)).reshape(-1, y.shape[-1]).max(0)
                max_abs[n] = np.maximum(max_abs[n], y)
    weights = {layer.name: layer.get_weights() for layer in deployed.layers if layer.weights}
    equalized = build_model(spec, deployed=True)
    new = equalize_weights(graph, weights, max_abs)
    for layer in equalized.layers:
        if layer.weights:
            layer.set_weights(new[layer.name])
    return equalized
