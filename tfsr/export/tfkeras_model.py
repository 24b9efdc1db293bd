"""The generator rebuilt in `tf_keras` (Keras 2), for TFMOT quantization.

tensorflow-model-optimization only understands Keras 2 models, while tfsr
trains with Keras 3.  This is the one place tf_keras is used: the same
deployed op graph, `lower(spec, deployed=True)`, becomes tf_keras layers
with the same names, so the trained Keras 3 weights copy over layer by
layer (a re-parameterizable block's as its one deployed conv).

Layers TFMOT's default 8-bit registry does not know get a `QuantizeConfig`:
  * `TFKPixelShuffle`, `TFKChannelSplit` (tfsr's custom layers) only move
    values around, so they get no quantizers at all: their int8 input
    scale passes straight through, as TFLite's DEPTH_TO_SPACE and SPLIT
    expect;
  * `PReLU` quantizes its slopes like a weight and its output like an
    activation (TFLite has an int8 PRELU kernel);
  * tanh and sigmoid quantize their output over the fixed range TFLite's
    int8 kernels write (TFMOT's registry leaves it unquantized).
"""

import numpy as np
import tensorflow as tf
import tf_keras
import tensorflow_model_optimization as tfmot

from tfsr.arch.graph import LEAKY_SLOPE, lower
from tfsr.arch.prelu_split import int8_graph, split_prelu_weights
from tfsr.arch.reparam import deployed_weights
from tfsr.arch.spec import as_spec
from tfsr.export.exporter import CALIBRATION_METHODS

_quantize = tfmot.quantization.keras
_quantizers = tfmot.quantization.keras.quantizers


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class TFKPixelShuffle(tf_keras.layers.Layer):
    def __init__(self, block_size, **kwargs):
        super().__init__(**kwargs)
        self.block_size = int(block_size)

    def call(self, inputs):
        return tf.nn.depth_to_space(inputs, self.block_size)

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class TFKResizeLike(tf_keras.layers.Layer):
    def __init__(self, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.interpolation = interpolation

    def call(self, inputs):
        x, reference = inputs
        return tf.image.resize(x, tf.shape(reference)[1:3], method=self.interpolation)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class TFKChannelSplit(tf_keras.layers.Layer):
    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        self.groups = int(groups)

    def call(self, inputs):
        return tf.split(inputs, self.groups, axis=-1)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class PassThroughQuantizeConfig(_quantize.QuantizeConfig):
    """For layers that only move values: nothing to quantize."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return []

    def get_config(self):
        return {}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class PReLUQuantizeConfig(_quantize.QuantizeConfig):
    """PReLU: 8-bit slopes (per tensor, symmetric) and an 8-bit output."""

    def get_weights_and_quantizers(self, layer):
        return [(layer.alpha, _quantizers.LastValueQuantizer(8, per_axis=False, symmetric=True, narrow_range=False))]

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        layer.alpha = quantize_weights[0]

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_quantizers.MovingAverageQuantizer(8, per_axis=False, symmetric=False, narrow_range=False)]

    def get_config(self):
        return {}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class OutputQuantizeConfig(PassThroughQuantizeConfig):
    """For weightless layers TFMOT does not know that make new values
    (Multiply): an 8-bit output, as TFMOT gives Add."""

    def get_output_quantizers(self, layer):
        return [_quantizers.MovingAverageQuantizer(8, per_axis=False, symmetric=False, narrow_range=False)]


# TFLite's int8 TANH and LOGISTIC kernels write fixed output ranges (scale 1/128,
# zero point 0; scale 1/256, zero point -128), whatever calibration saw; TFMOT's
# default registry simulates no output quantization for them at all.  The ranges
# are exactly those grids: any other range adds a requantization after the op.
FIXED_OUTPUT_RANGES = {"tanh": (-1.0, 127 / 128), "sigmoid": (0.0, 255 / 256)}


@tf_keras.utils.register_keras_serializable(package="tfsr_tfk")
class FixedOutputQuantizeConfig(PassThroughQuantizeConfig):
    """tanh / sigmoid: an 8-bit output over the fixed range the int8 kernel
    writes, so that QAT trains against the quantization the file has (an
    ESPCN's tanh activations span a fraction of [-1, 1]: its QAT simulation
    read 34.89 dB on Set5, its int8 file 34.20)."""

    def __init__(self, low, high):
        self.low, self.high = float(low), float(high)

    def get_output_quantizers(self, layer):
        return [_quantizers.FixedQuantizer(8, self.low, self.high, narrow_range=False)]

    def get_config(self):
        return {"low": self.low, "high": self.high}


def quantize_scope():
    """The custom objects TFMOT must know to clone and quantize the model."""
    return _quantize.quantize_scope(
        {
            "TFKPixelShuffle": TFKPixelShuffle,
            "TFKChannelSplit": TFKChannelSplit,
            "TFKResizeLike": TFKResizeLike,
            "PassThroughQuantizeConfig": PassThroughQuantizeConfig,
            "OutputQuantizeConfig": OutputQuantizeConfig,
            "PReLUQuantizeConfig": PReLUQuantizeConfig,
            "FixedOutputQuantizeConfig": FixedOutputQuantizeConfig,
        }
    )


def _layers_for(op, annotate, native_groups=False):
    """The tf_keras layer (or a callable of several) for one op."""
    a, k = op.attrs, tf_keras.layers
    if op.kind == "conv" and a["groups"] > 1 and native_groups:
        return k.Conv2D(a["filters"], a["kernel"], padding="same", groups=a["groups"], name=op.name)
    if op.kind == "conv" and a["groups"] > 1:
        split = TFKChannelSplit(a["groups"], name=f"{op.name}_split")
        convs = [k.Conv2D(a["filters"] // a["groups"], a["kernel"], padding="same", name=f"{op.name}_g{i}")
                 for i in range(a["groups"])]  # fmt: skip
        concat = k.Concatenate(name=op.name)
        if annotate:
            split = _quantize.quantize_annotate_layer(split, PassThroughQuantizeConfig())

        def grouped(x):
            return concat([conv(part) for conv, part in zip(convs, split(x))])

        return grouped
    if op.kind == "conv":
        return k.Conv2D(a["filters"], a["kernel"], strides=a.get("stride", 1), padding="same",
                        dilation_rate=a["dilation"], name=op.name)  # fmt: skip
    if op.kind == "dwconv":
        return k.DepthwiseConv2D(a["kernel"], padding="same", name=op.name)
    if op.kind == "deconv":
        return k.Conv2DTranspose(a["filters"], a["kernel"], strides=a["stride"], padding="same", name=op.name)
    if op.kind == "act" and a["kind"] == "prelu":
        layer = k.PReLU(shared_axes=[1, 2], name=op.name)
        return _quantize.quantize_annotate_layer(layer, PReLUQuantizeConfig()) if annotate else layer
    if op.kind == "act" and a["kind"] == "clip":
        return k.ReLU(max_value=1.0, name=op.name)
    if op.kind == "act" and a["kind"] == "leaky_relu":
        return k.LeakyReLU(LEAKY_SLOPE, name=op.name)
    if op.kind == "act":
        layer = k.Activation(a["kind"], name=op.name)
        if annotate and a["kind"] in FIXED_OUTPUT_RANGES:
            return _quantize.quantize_annotate_layer(layer, FixedOutputQuantizeConfig(*FIXED_OUTPUT_RANGES[a["kind"]]))
        return layer
    if op.kind == "add":
        return k.Add(name=op.name)
    if op.kind == "concat":
        return k.Concatenate(name=op.name)
    if op.kind == "upsample":
        return k.UpSampling2D(a["factor"], interpolation=a["interpolation"], name=op.name)
    if op.kind == "depth_to_space":
        layer = TFKPixelShuffle(a["block"], name=op.name)
        return _quantize.quantize_annotate_layer(layer, PassThroughQuantizeConfig()) if annotate else layer
    if op.kind == "maxpool":
        return k.MaxPooling2D(a["pool"], a["stride"], padding="same", name=op.name)
    if op.kind == "resize_like":
        layer = TFKResizeLike(a["interpolation"], name=op.name)
        return _quantize.quantize_annotate_layer(layer, PassThroughQuantizeConfig()) if annotate else layer
    if op.kind == "mul":
        layer = k.Multiply(name=op.name)
        return _quantize.quantize_annotate_layer(layer, OutputQuantizeConfig()) if annotate else layer
    raise ValueError(f"no tf_keras layer for op kind {op.kind!r}")


def build_tfkeras_model(spec, annotate=False, batch_size=None, native_groups=False, split_prelu=False):
    """`ArchSpec` -> `tf_keras.Model` with the Keras 3 builder's layer names.

    `annotate=True` wraps the layers TFMOT does not know in their
    QuantizeConfigs (call `quantize_model` on the result).

    `native_groups=True` makes a grouped conv one `Conv2D(groups=g)` (one
    grouped CONV_2D in TFLite) instead of the Keras builder's split ->
    per-group convs -> concat.  Which is faster depends on the kernels
    (searched x2 spec, 480x480 LR, 1 thread, this 2-core CPU): int8 TFLite
    77 ms grouped vs 370 ms split; float32 TFLite 328 ms grouped vs 265 ms
    split.  So int8 exports use grouped convs, the others the split.

    `split_prelu=True` builds `int8_graph(spec)`: PReLUs between convs as
    ReLUs on twice the channels (give `copy_weights` the same flag).
    """
    spec = as_spec(spec)
    graph = int8_graph(spec) if split_prelu else lower(spec, deployed=True)
    tensors = {}
    for op in graph.ops:
        if op.kind == "input":
            tensors[op.name] = tf_keras.Input((None, None, op.channels), batch_size=batch_size, name=op.name)
            continue
        inputs = [tensors[i] for i in op.inputs]
        tensors[op.name] = _layers_for(op, annotate, native_groups)(inputs if len(inputs) > 1 else inputs[0])
    return tf_keras.Model(tensors[graph.ops[0].name], tensors[graph.output], name=spec.name)


def _group_weights(source, name):
    """The per-group convs `name_g0, name_g1, ..` as one grouped kernel and bias.

    Group i reads input channels [i*c/g, (i+1)*c/g) and writes output
    channels [i*f/g, (i+1)*f/g), so the grouped kernel is the per-group
    kernels side by side on the output axis.
    """
    parts = []
    while f"{name}_g{len(parts)}" in source:
        parts.append(source[f"{name}_g{len(parts)}"])
    if not parts:
        return None, []
    names = [f"{name}_g{i}" for i in range(len(parts))]
    return [np.concatenate([p[0] for p in parts], -1), np.concatenate([p[1] for p in parts], -1)], names


def copy_weights(keras3_model, tfk_model, split_prelu_of=None):
    """Copies weights layer by layer (matched by name); every weight must match.

    `keras3_model` may be the training or the deployed form: a
    re-parameterizable layer gives its deployed conv's weights.
    `split_prelu_of`: the spec, when `tfk_model` was built with
    `split_prelu=True` (the weights are rewritten to match).
    """
    source = {layer.name: deployed_weights(layer) for layer in keras3_model.layers if layer.weights}
    if split_prelu_of is not None:
        source = split_prelu_weights(lower(split_prelu_of, deployed=True), source)
    copied = set()
    for layer in tfk_model.layers:
        inner = getattr(layer, "layer", layer)  # a QuantizeAnnotate wrapper
        if not inner.weights:
            continue
        if inner.name not in source:
            weights, names = _group_weights(source, inner.name)
            if weights is None:
                raise ValueError(f"layer {inner.name!r} has no counterpart in {keras3_model.name}")
            inner.set_weights(weights)
            copied.update(names)
            continue
        inner.set_weights(source[inner.name])
        copied.add(inner.name)
    missing = set(source) - copied
    if missing:
        raise ValueError(f"weights of {sorted(missing)} were not copied")
    return tfk_model


def quantize_model(spec, keras3_model, calibration=None, native_groups=True, method="minmax", split_prelu=False,
                   weights_split=None):
    """The QAT model: annotated tf_keras rebuild, trained weights, fake-quant ops.

    `calibration`: LR patches `(1, h, w, C)` used to set every activation
    range from the float model, by `method` (see `calibrate_ranges`).
    `split_prelu`: build `int8_graph(spec)`.  Its weights are rewritten
    from `keras3_model`'s (a model of `spec`), unless `weights_split`:
    `keras3_model` is then already of the split form (a
    `trained_float_model(..., split_prelu=True)`).
    """
    rewrite = spec if split_prelu and not weights_split else None
    build = dict(native_groups=native_groups, split_prelu=split_prelu)
    annotated = copy_weights(keras3_model, build_tfkeras_model(spec, annotate=True, **build), rewrite)
    annotated = _quantize.quantize_annotate_model(annotated)
    with quantize_scope():
        qat_model = _quantize.quantize_apply(annotated)
    if calibration:
        float_model = copy_weights(keras3_model, build_tfkeras_model(spec, **build), rewrite)
        calibrate_ranges(qat_model, float_model, calibration, method=method)
    return qat_model


def _activation_ranges(qat_model):
    """{layer name: (min variable, max variable)}: each layer's one
    activation range; the input's QuantizeLayer (named by TFMOT, with a
    counter) under "<input>"."""
    found = {}
    for layer in qat_model.layers:
        is_input = type(layer).__name__ == "QuantizeLayer"
        lows, highs = [], []
        for w in layer.weights:
            leaf = _leaf(w)
            if leaf in _RANGE_VARIABLES or (is_input and leaf.endswith(("_min", "_max"))):
                (lows if leaf.endswith("min") else highs).append(w)
        if len(lows) == len(highs) == 1:
            found["<input>" if is_input else layer.name] = (lows[0], highs[0])
    return found


def copy_activation_ranges(source, target):
    """Gives `target`'s activation ranges the values of `source`'s layers of
    the same name; returns how many were copied.

    QAT trains in the split layout and converts in the grouped one
    (`trained_float_model`).  Its ranges are part of what QAT trained: the
    fine-tuned weights fit them, and re-measuring them on the new layout
    cost ESPCN 0.13 dB on Set5 after 2,000 steps (34.48 -> 34.35).  Layer
    names are shared by both layouts; a grouped conv's range is that of the
    split layout's concat, which carries the conv's name."""
    ranges = _activation_ranges(source)
    copied = 0
    for name, (low, high) in _activation_ranges(target).items():
        if name in ranges:
            low.assign(ranges[name][0])
            high.assign(ranges[name][1])
            copied += 1
    return copied


def trained_float_model(spec, qat_model, split_prelu=False):
    """The float tf_keras generator (split layout) holding `qat_model`'s weights.

    QAT trains fastest in the split layout (TensorFlow's CPU kernels have no
    grouped conv: 25.9 vs 2.1 steps/s on the searched x2 spec), while int8
    TFLite runs fastest with grouped convs.  This float model lets
    `quantize_model(spec, trained_float_model(...), calibration,
    native_groups=True)` carry the fine-tuned weights over to the grouped
    layout, with activation ranges measured again on calibration patches.
    """
    plain = build_tfkeras_model(spec, split_prelu=split_prelu)
    # Matched by variable name: a QuantizeWrapper keeps the float kernel under
    # the inner layer's name while its `layer.weights` no longer lists it.
    trained = {}
    for w in qat_model.weights:
        trained.setdefault(w.name, w)
    for layer in plain.layers:
        if layer.weights:
            layer.set_weights([trained[w.name].numpy() for w in layer.weights])
    return plain


def deployable_qat_model(spec, qat_model, calibration, pairs, methods=None, split_prelu=False):
    """The grouped-layout fake-quant model to convert after QAT, holding the
    fine-tuned weights; returns (model, its ranges' name, {name: PSNR}).

    Several sets of activation ranges fit those weights: the ones QAT trained
    (what it simulated; `copy_activation_ranges`), named "trained", and ones
    measured again on the `calibration` patches with each of `methods`
    (default `CALIBRATION_METHODS`), named by method.  None wins everywhere:
    after 2,000 QAT steps (bench/qat_schedule.py) the zoo's x2 ABPN (ReLU,
    clipped output) loses least with min/max ranges (0.04 dB on Set5 and
    Set14, against 0.07-0.15 with the others), the PReLU net searched under
    2.3G with percentile or MSE ones (0.13 / 0.08 against 0.18 / 0.10).  So
    each candidate is scored by Y PSNR on `pairs` (`EvalPair`s of whole
    training images, `training_images`), which ranks them as Set5 and Set14
    do; PSNR on training *patches*, or their L1, does not (the zoo's ABPN:
    percentile first on patches, last but one on images).  What is scored
    is each candidate's int8 file (`tflite.int8_file_psnr`), not the
    fake-quant model: the simulation is within 0.02 dB of the file, which
    is the size of the differences to rank.  After 6,000 QAT steps from
    3e-5 the zoo's x2 models scored percentile 32.411 and min/max 32.408 dB
    on 12 training images, while their files score min/max first by 0.021
    dB there, as on Set5 / Set14 (drop 0.039 / 0.032 against 0.066 /
    0.068)."""
    from tfsr.export.tflite import int8_file_psnr

    float_model = trained_float_model(spec, qat_model, split_prelu)
    same_form = dict(native_groups=True, split_prelu=split_prelu, weights_split=True)
    candidates = {}
    for method in methods or CALIBRATION_METHODS:
        candidates[method] = quantize_model(spec, float_model, calibration, method=method, **same_form)
    # QAT's own ranges on the same weights: one measured model copied, then its ranges overwritten.
    trained = quantize_model(spec, float_model, **same_form)
    trained.set_weights(next(iter(candidates.values())).get_weights())
    copy_activation_ranges(qat_model, trained)
    candidates = {"trained": trained, **candidates}
    psnr = {name: int8_file_psnr(model, calibration, pairs, spec.scale) for name, model in candidates.items()}
    best = max(psnr, key=psnr.get)
    return candidates[best], best, psnr


_RANGE_VARIABLES = ("output_min", "output_max", "post_activation_min", "post_activation_max")


def _leaf(variable):
    """A variable's own name, without its layer path or ":0" ("quant_conv/output_min:0" -> "output_min")."""
    return variable.name.split("/")[-1].split(":")[0]


def unify_concat_ranges(qat_model):
    """Gives concatenations that share an input one common output range.

    TFMOT quantizes a concatenation's output and not its inputs, so in the
    int8 model every input of a concat carries the concat's scale.  A node
    feeding two concats (FALSR's dense macro links) must then have both
    scales at once, and the converter refuses ('tfl.concatenation op
    quantization parameters violate the same scale constraint') unless the
    two ranges are equal.  Each group of concats linked by shared inputs
    gets the union of its ranges.  Call it after calibration or QAT, before
    conversion; returns the number of concats whose range changed.
    """
    concats = {}  # concat layer -> names of the layers it reads
    for layer in qat_model.layers:
        if type(getattr(layer, "layer", None)).__name__ == "Concatenate":
            inbound = layer._inbound_nodes[0].inbound_layers
            concats[layer.name] = {x.name for x in (inbound if isinstance(inbound, list) else [inbound])}
    group = {name: name for name in concats}

    def root(name):
        while group[name] != name:
            name = group[name]
        return name

    names = sorted(concats)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if concats[a] & concats[b]:
                group[root(b)] = root(a)
    ranges = {}  # group root -> [(min variable, max variable)]
    for name in names:
        layer = qat_model.get_layer(name)
        found = {_leaf(w): w for w in layer.weights}
        if "output_min" in found and "output_max" in found:
            ranges.setdefault(root(name), []).append((found["output_min"], found["output_max"]))
    changed = 0
    for members in ranges.values():
        low = min(float(lo.numpy()) for lo, _ in members)
        high = max(float(hi.numpy()) for _, hi in members)
        for lo, hi in members:
            changed += float(lo.numpy()) != low or float(hi.numpy()) != high
            lo.assign(low)
            hi.assign(high)
    return changed


SAMPLES_PER_BATCH = 1 << 16  # activation values kept per layer and batch for percentile / mse


def activation_range(values, low, high, method):
    """The [min, max] range (containing 0) of one activation for 8-bit
    quantization: `low`/`high` (the extremes seen) for minmax; the 0.01% /
    99.99% percentiles of the sampled `values`; or (mse) the extremes shrunk
    by the factor in [0.3, 1] whose uniform 256-level quantization of
    `values` has the least squared error."""
    if method == "minmax" or not len(values):
        return min(low, 0.0), max(high, 0.0)
    if method == "percentile":
        return min(float(np.percentile(values, 0.01)), 0.0), max(float(np.percentile(values, 99.99)), 0.0)
    best, best_error = (min(low, 0.0), max(high, 0.0)), np.inf
    for shrink in np.linspace(0.3, 1.0, 29):
        lo, hi = min(low, 0.0) * shrink, max(high, 0.0) * shrink
        step = (hi - lo) / 255 or 1.0
        error = float(np.mean((np.round((np.clip(values, lo, hi) - lo) / step) * step + lo - values) ** 2))
        if error < best_error:
            best, best_error = (lo, hi), error
    return best


def calibrate_ranges(qat_model, float_model, patches, batch_size=32, method="minmax", seed=0):
    """Sets the activation ranges of `qat_model` to those `float_model` produces.

    TFMOT starts every activation range at [-6, 6] and moves it by an
    exponential average (decay 0.999) during training, so a short QAT
    fine-tune exports ranges still far too wide: an x2 generator lost
    4.2 dB after 300 steps that way.  Measuring the float model's
    activations on training patches first (as post-training calibration
    does) starts QAT from ranges that fit.  `method` (`CALIBRATION_METHODS`)
    turns what is seen into a range (`activation_range`): minmax keeps rare
    outliers in range at the cost of resolution for everything else.
    """
    targets = {}  # float layer name -> [(is_min, variable)]
    for layer in qat_model.layers:
        for w in layer.weights:
            leaf = _leaf(w)
            if leaf in _RANGE_VARIABLES and layer.name.startswith("quant_"):
                targets.setdefault(layer.name[len("quant_") :], []).append((leaf.endswith("min"), w))
    names = sorted(targets)
    probe = tf_keras.Model(float_model.input, [float_model.get_layer(n).output for n in names])
    if method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration method must be one of {CALIBRATION_METHODS}, got {method!r}")
    rng = np.random.default_rng(seed)
    low = {n: 0.0 for n in names}  # fake-quant ranges must contain 0
    high = {n: 0.0 for n in names}
    samples = {n: [] for n in names}
    for start in range(0, len(patches), batch_size):
        outputs = probe(tf.concat(patches[start : start + batch_size], 0), training=False)
        for n, out in zip(names, outputs if len(names) > 1 else [outputs]):
            low[n] = min(low[n], float(tf.reduce_min(out)))
            high[n] = max(high[n], float(tf.reduce_max(out)))
            if method != "minmax":
                flat = np.ravel(out)
                samples[n].append(flat if flat.size <= SAMPLES_PER_BATCH else rng.choice(flat, SAMPLES_PER_BATCH))
    for n in names:
        values = np.concatenate(samples[n]) if samples[n] else np.zeros(0)
        lo, hi = activation_range(values, low[n], high[n], method)
        for is_min, variable in targets[n]:
            variable.assign(lo if is_min else hi)
    # Weight ranges (LastValueQuantizer) are only measured in training-mode
    # calls and start at [-6, 6]: one such call sets them from the kernels.
    # (It also nudges the activation ranges by 0.1% towards this batch.)
    qat_model(tf.concat(patches[:batch_size], 0), training=True)
    # The input's own quantizer (TFMOT's QuantizeLayer) starts at [0, 0].
    # An RGB input is a uint8 image / 255 (`tfsr.inference`): on [0, 1] its
    # int8 grid is the image's own and quantizing it loses nothing.  (Y is
    # computed from RGB, not on any 8-bit grid: its range is what was seen.)
    inputs = np.concatenate([np.ravel(p) for p in patches])
    low, high = min(0.0, float(inputs.min())), max(0.0, float(inputs.max()))
    if qat_model.input.shape[-1] == 3:
        low, high = 0.0, 1.0
    for layer in qat_model.layers:
        if type(layer).__name__ == "QuantizeLayer":
            for w in layer.weights:
                if w.name.split(":")[0].endswith("_min"):
                    w.assign(low)
                elif w.name.split(":")[0].endswith("_max"):
                    w.assign(high)
    put_output_on_image_grid(qat_model)


def put_output_on_image_grid(qat_model):
    """Gives the tensor `qat_model` outputs the range [0, 1] exactly, where
    that range is one quantizer's.

    Every tfsr upscaler saves `round(255 * output)` clipped to [0, 255]
    (`tfsr.inference`), so an int8 output on [0, 1] (scale 1/255) is
    rounded and saturated where the image is anyway: the file's last
    rounding becomes the one the float model's image gets too, instead of a
    second one on a grid offset from it (ESPCN's output spanned [-0.1, 1.03]).
    The range is the quantizer of the last layer that makes new values,
    found through the pixel shuffles after it; a tensor read elsewhere too
    is left alone."""
    layer = qat_model.output._keras_history.layer
    while True:
        ranges = [w for w in layer.weights if _leaf(w) in _RANGE_VARIABLES]
        if ranges:
            break
        inbound = layer._inbound_nodes[0].inbound_layers
        if isinstance(inbound, list) or len(inbound._outbound_nodes) != 1:
            return
        layer = inbound
    for w in ranges:
        w.assign(0.0 if _leaf(w).endswith("min") else 1.0)
