"""PReLU rewritten as ReLUs, exactly, for integer inference.

A PReLU is two ReLUs: PReLU(z) = ReLU(z) - sign(a) * ReLU(-|a| z) (for
a < 0 both terms are positive).  Between two convolutions the scale |a|
moves into the first kernel and the sign into the next one:

    before                                   after

    x ── conv(W, b) ── PReLU(a) ── conv(V, c)
                                    x ── conv([W, -|a|W], [b, -|a|b]) ── ReLU ── conv([V; -sign(a) V], c)
                                          2F outputs: z and -|a| z               reads 2F channels

(`[W, -|a|W]`: the kernel side by side with its negation scaled per output
channel; `[V; -sign(a) V]`: V stacked over its signed copy on the input
axis.)  Zero padding stays exact: the padded zeros of the 2F channels are
the zeros of PReLU(z).  Why: an int8 PReLU net rounds every hidden conv's
output twice, once over its signed range before the PReLU and once after
it, and on CPUs the PReLU runs as an op of its own.  After the rewrite
each conv is followed by a ReLU that TFLite fuses into it: one rounding,
over PReLU's own output range.  The slope goes into the first kernel, not
the second: a kernel -a V with |a| << 1 has few int8 levels against the
full size of ReLU(-z) (ECBSR's last slopes are below 0.04; that form lost
7.7 dB on Set5), while -|a| W is quantized per output channel at full
resolution.  The price is mult-adds: a conv between two split PReLUs
reads and writes twice the channels, four times the work.

A sum of such PReLUs read only by convs (a long residual: `h + s`, both
PReLU outputs, into the tail conv) is split too, by turning the add into a
concat that its readers sum over:

    before                                   after

    PReLU(a) ─┐                              ReLU (2F) ─┐
              add ── conv(V, c)                         concat (4F) ── conv([V; -sign(a) V; V; -sign(b) V], c)
    PReLU(b) ─┘                              ReLU (2F) ─┘

The readers' work doubles again, and int8 needs one scale for the concat's
inputs, but the add's rounding goes with the PReLUs'.

The rewrite applies to a PReLU whose input is a plain conv read by nothing
else and whose readers are all plain or transposed convs, or such adds
(each input a PReLU the rewrite applies to, each reader a plain or
transposed conv); any other PReLU (read by a concat, a pixel shuffle, an
add read by something else, or after a grouped conv) stays.
`split_prelu_graph` rewrites a (deployed) op graph, `split_prelu_weights`
its weights; both are pure functions of what they are given, and
`int8_graph(spec)` is the deployed graph rewritten.
"""

import dataclasses

import numpy as np

from tfsr.arch.graph import OpGraph, lower


def _consumers(graph):
    readers = {op.name: [] for op in graph.ops}
    for op in graph.ops:
        for name in op.inputs:
            readers[name].append(op)
    return readers


def _is_plain_conv(op):
    return op.kind == "conv" and op.attrs["groups"] == 1


def _reads_channels_linearly(op):
    return _is_plain_conv(op) or op.kind == "deconv"


def _after_own_plain_conv(graph, readers, op):
    """Whether `op`'s input is a plain conv read by `op` alone."""
    producer = graph[op.inputs[0]]
    return _is_plain_conv(producer) and [r.name for r in readers[producer.name]] == [op.name]


def acts_between_convs(graph, kinds):
    """Names of the activation ops of `kinds` in a deployed `graph` whose
    input is a plain conv read by nothing else and whose readers are all
    plain or transposed convs: where a per-channel rewrite of the producer
    and its readers changes nothing else."""
    readers = _consumers(graph)
    return [op.name for op in graph.ops
            if op.kind == "act" and op.attrs["kind"] in kinds and _after_own_plain_conv(graph, readers, op)
            and readers[op.name] and all(_reads_channels_linearly(r) for r in readers[op.name])]  # fmt: skip


def split_plan(graph):
    """(PReLU op names, add op names) of a deployed `graph` that the rewrite
    splits and turns into concats, each in graph order.

    The two depend on each other (an add is bridged only if all its inputs
    are split; a PReLU read by an add only if the add is bridged), so the
    plan starts from every PReLU after a plain conv read by nothing else and
    drops the ones with another reader until nothing changes."""
    readers = _consumers(graph)
    prelus = {op.name for op in graph.ops
              if op.kind == "act" and op.attrs["kind"] == "prelu" and _after_own_plain_conv(graph, readers, op)}  # fmt: skip
    while True:
        adds = {op.name for op in graph.ops
                if op.kind == "add" and readers[op.name] and all(i in prelus for i in op.inputs)
                and all(_reads_channels_linearly(r) for r in readers[op.name])}  # fmt: skip
        kept = {name for name in prelus
                if readers[name] and all(_reads_channels_linearly(r) or r.name in adds for r in readers[name])}  # fmt: skip
        if kept == prelus:
            break
        prelus = kept
    in_order = [op.name for op in graph.ops]
    return sorted(prelus, key=in_order.index), sorted(adds, key=in_order.index)


def splittable_prelus(graph):
    """Names of the PReLU ops of `graph` (a deployed `OpGraph`) the rewrite applies to."""
    return split_plan(graph)[0]


def int8_graph(spec):
    """The deployed op graph of `spec` with its splittable PReLUs split."""
    return split_prelu_graph(lower(spec, deployed=True))


def split_prelu_graph(graph):
    """`graph` with every splittable PReLU a ReLU on twice the channels.

    Op names, order and inputs are unchanged (the PReLU op keeps its name,
    as kind `act` / `relu`), so weights still map by name."""
    prelus, adds = map(set, split_plan(graph))
    doubled = {graph[name].inputs[0] for name in prelus}
    rewritten = OpGraph()
    for op in graph.ops:
        if op.name in doubled:
            op = dataclasses.replace(op, channels=2 * op.channels, attrs={**op.attrs, "filters": 2 * op.attrs["filters"]})
        elif op.name in prelus:
            op = dataclasses.replace(op, channels=2 * op.channels, attrs={"kind": "relu", "split_from": "prelu"})
        elif op.name in adds:
            op = dataclasses.replace(op, kind="concat", channels=2 * op.channels * len(op.inputs),
                                     attrs={"split_from": "add"})  # fmt: skip
        rewritten._append(op)
    return rewritten


def split_prelu_weights(graph, weights):
    """The weights of `split_prelu_graph(graph)` from those of `graph`.

    `weights`: {op name: [arrays]} as Keras keeps them (conv kernel
    (k, k, in, out) and bias; transposed conv kernel (k, k, out, in) and
    bias; PReLU slopes (1, 1, channels)).  Returns the same for the
    rewritten graph: the split PReLUs have no weights left."""
    prelus, adds = split_plan(graph)
    slopes = {name: np.ravel(weights[name][0]) for name in prelus}
    slopes_of_producer = {graph[name].inputs[0]: slopes[name] for name in prelus}
    # reader op name -> the slopes of the split PReLUs it reads, one array per
    # PReLU in the order of its (concatenated) input channels
    slopes_read_by = {}
    for op in graph.ops:
        if op.inputs and op.inputs[0] in prelus:
            slopes_read_by[op.name] = [slopes[op.inputs[0]]]
        elif op.inputs and op.inputs[0] in adds:
            slopes_read_by[op.name] = [slopes[name] for name in graph[op.inputs[0]].inputs]
    result = {}
    for name, arrays in weights.items():
        if name in prelus:
            continue
        arrays = [np.asarray(a) for a in arrays]
        if name in slopes_read_by:  # (a conv or transposed conv: adds have no weights)
            kernel = arrays[0]
            in_axis = 3 if graph[name].kind == "deconv" else 2
            shape = [1, 1, 1, 1]
            parts = []
            for sign in map(np.sign, slopes_read_by[name]):
                shape[in_axis] = sign.size
                parts += [kernel, -kernel * sign.reshape(shape)]
            arrays[0] = np.concatenate(parts, axis=in_axis)
        if name in slopes_of_producer:
            (kernel, bias), scale = arrays, np.abs(slopes_of_producer[name])
            arrays = [np.concatenate([kernel, -kernel * scale], axis=3), np.concatenate([bias, -bias * scale])]
        result[name] = arrays
    return result
