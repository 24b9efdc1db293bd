"""`ArchSpec` + trained weights -> `.tflite`, in five flavours.

    none      float32
    float16   float16 weights, float32 compute
    dynamic   int8 weights, activations quantized on the fly
    int8      full-integer post-training quantization, calibrated on a
              representative set of training patches
    int8_qat  full-integer, after quantization-aware fine-tuning (TFMOT)
    int16x8   16-bit activations, 8-bit weights, calibrated like int8, for
              where 8-bit activations cost too much quality; the kernels
              are rounded onto the converter's grid with their error
              compensated first (`tfsr.export.weight_rounding`), since
              with 16-bit activations the weights are most of what is
              lost (FSRCNN x2: 0.35 / 0.18 dB on Set5 / Set14 to
              nearest, 0.003 / 0.008 compensated).  The ops
              without 16x8 kernels (DEPTH_TO_SPACE, PRELU) run in float
              between a dequantize and a quantize; XNNPACK has no 16x8
              kernels, so on CPUs it runs 40-100x slower than int8 (2-7 s
              for a 640x360 input, 1 thread, this project's 2-core CPU):
              it is for accelerators with 16x8 support.

Every flavour converts the `tf_keras` rebuild of the generator (one
conversion path; the rebuild is checked to equal the Keras 3 model).  The
input is `(1, H, W, C)` with H and W dynamic: the interpreter resizes its
input tensor to each image.  int8 models take `io_type` inputs/outputs:
float32 (quantize inside the model), uint8 or int8 (quantized tensors; the
input's scale and zero point are in the model, `TFLiteUpscaler` applies
them).
"""

import contextlib
import math
import os
import tempfile
import time
import warnings

import numpy as np

from tfsr.errors import UserError
from tfsr.quiet import muted_stderr

QUANTIZE_MODES = ("none", "float16", "dynamic", "int8", "int8_qat", "int16x8")
CALIBRATED_MODES = ("int8", "int8_qat", "int16x8")  # the modes that need representative patches
IO_TYPES = ("float32", "uint8", "int8")


@contextlib.contextmanager
def _quiet_converter():
    """Mutes the converter's C++ chatter on stderr and its expected warning.

    Errors are unaffected: the converter raises them as exceptions.
    """
    with muted_stderr(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        yield


def representative_patches(train_data, count):
    """`count` LR patches `(1, h, w, C)` float32 in [0, 1] from a `PatchDataset`."""
    patches = []
    for lr, _ in train_data.dataset():
        patches.extend(np.asarray(lr))
        if len(patches) >= count:
            break
    return [p[None] for p in patches[:count]]


def training_images(train_data, count, side):
    """`count` whole training images spread evenly over `train_data`'s list
    (a `PatchDataset`), centre-cropped to at most `side` HR pixels a side,
    as `EvalPair`s with their bicubic LR.  Whole images, unlike patches,
    hold the rare extremes an activation range must decide about."""
    from tfsr.data.evalsets import pair_from_hr

    images, paths = train_data.images, train_data.paths
    picks = np.unique(np.linspace(0, len(images) - 1, min(count, len(images))).astype(int))
    pairs = []
    for i in picks:
        hr = images[i]
        top, left = max(0, (hr.shape[0] - side) // 2), max(0, (hr.shape[1] - side) // 2)
        pairs.append(pair_from_hr(paths[i], hr[top : top + side, left : left + side], train_data.scale))
    return pairs


def qat_finetune(qat_model, train_data, steps, learning_rate=1e-4, log=print, log_every=100):
    """Quantization-aware fine-tuning with L1 loss, as the model was trained."""
    import tf_keras

    schedule = tf_keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1), alpha=0.01)
    qat_model.compile(optimizer=tf_keras.optimizers.Adam(schedule), loss="mae")

    class Progress(tf_keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t0 = time.time()

        def on_train_batch_end(self, batch, logs=None):
            step = batch + 1
            if not math.isfinite(float(logs["loss"])):
                raise UserError(f"quantization-aware training diverged at step {step} (loss {logs['loss']})")
            if step % log_every == 0 or step == steps:
                rate = step / max(time.time() - self.t0, 1e-9)
                log(f"QAT step {step}/{steps}  loss {logs['loss']:.4f}  {rate:.1f} steps/s")

    qat_model.fit(train_data.dataset(), steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[Progress()])
    return qat_model


def convert(tfk_model, quantize="none", representative=None, io_type="float32"):
    """Converts a tf_keras model (plain, or QAT from `quantize_model`) to TFLite bytes.

    Args:
        tfk_model: `build_tfkeras_model` + `copy_weights` result, or the
            fine-tuned QAT model for `quantize="int8_qat"`.
        quantize: one of `QUANTIZE_MODES`.
        representative: LR patches for `int8`/`int8_qat` calibration.
        io_type: input/output type of `int8`/`int8_qat` models.
    """
    converter = configured_converter(tfk_model, quantize, representative, io_type)
    try:
        with _quiet_converter():
            return converter.convert()
    except Exception as e:  # the converter's errors are long MLIR dumps
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise RuntimeError(f"TFLite conversion ({quantize}) failed: {first}") from e


def configured_converter(tfk_model, quantize="none", representative=None, io_type="float32"):
    """The `tf.lite.TFLiteConverter` that `convert` runs, set up for `quantize`
    (arguments as there); tools that inspect a conversion (the quantization
    debugger, bench/int8_layers.py) start from it."""
    import tensorflow as tf

    if quantize not in QUANTIZE_MODES:
        raise UserError(f"--quantize must be one of {', '.join(QUANTIZE_MODES)}, got {quantize!r}")
    if io_type not in IO_TYPES:
        raise UserError(f"--io_type must be one of {', '.join(IO_TYPES)}, got {io_type!r}")
    if io_type != "float32" and quantize not in ("int8", "int8_qat"):  # (int16x8: float32 I/O only)
        raise UserError(f"--io_type={io_type} needs --quantize=int8 or int8_qat (got {quantize})")
    if quantize == "int8_qat":
        from tfsr.export.tfkeras_model import unify_concat_ranges

        unify_concat_ranges(tfk_model)
    converter = tf.lite.TFLiteConverter.from_keras_model(tfk_model)
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize in ("int8", "int8_qat"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        # QAT models carry their ranges in fake-quant ops; the converter still
        # wants samples for full-integer conversion (it checks the few tensors
        # without fake-quant, e.g. the float input before quantization).
        if not representative:
            raise ValueError(f"{quantize} conversion needs representative patches")
        converter.representative_dataset = lambda: ([p] for p in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io_type != "float32":
            converter.inference_input_type = getattr(tf, io_type)
            converter.inference_output_type = getattr(tf, io_type)
    elif quantize == "int16x8":
        if not representative:
            raise ValueError("int16x8 conversion needs representative patches")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([p] for p in representative)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,  # float for the ops without 16x8 kernels
        ]
    return converter


def calibrated_int8_model(model, spec, calibration, method="minmax", split_prelu=True, equalize=False,
                          round_weights=False):
    """The fake-quant tf_keras model that post-training int8 converts: the
    Keras 3 generator `model` of `spec` rebuilt with grouped convs as one
    CONV_2D (and PReLUs split, by default), every activation range set by
    tfsr's calibration on `calibration` (LR patches `(1, h, w, C)`) with
    `method` (`tfkeras_model.calibrate_ranges`).  Convert it as "int8_qat".

    Why not the converter's own calibration: with the same 200 patches and
    min/max ranges, it gave the zoo's x2 model's last conv (the one before
    the anchor add) the range of the add's output, [-0.33, 1.04] instead of
    the [-0.33, 0.35] that conv writes (its range and the add's together):
    twice the rounding step on the image.  Its file lost 0.118 / 0.059 dB
    on Set5 / Set14 that way, 0.075 / 0.042 this way.

    The float model it calibrates is `int8_float_form(model, spec,
    calibration, equalize, round_weights)`."""
    from tfsr.export.tfkeras_model import quantize_model

    float_model = int8_float_form(model, spec, calibration, equalize, round_weights)
    return quantize_model(spec, float_model, calibration, native_groups=True, method=method, split_prelu=split_prelu)


def int8_float_form(model, spec, calibration, equalize=False, round_weights=False):
    """The float Keras 3 model of `spec` whose int8 file post-training
    quantization writes: `model` itself, or with its channels equalized
    first (`equalize`: each activation's channels span about the same
    range, `tfsr.arch.equalize`; exact in float), and then its kernels
    rounded onto the file's grid with the error compensated
    (`round_weights`: `tfsr.export.weight_rounding`; the one form that is
    not the same function in float).  Both are measured on `calibration`."""
    from tfsr.arch.equalize import equalize_model
    from tfsr.export.weight_rounding import rounded_model

    if equalize:
        model = equalize_model(model, spec, calibration)
    if round_weights:
        model = rounded_model(model, spec, calibration)
    return model


# The float forms `best_calibrated_int8_model` compares: name -> (equalize, round_weights) of `int8_float_form`.
INT8_FORMS = {"as trained": (False, False), "equalized": (True, False), "rounded": (False, True),
              "equalized, rounded": (True, True)}  # fmt: skip


def best_calibrated_int8_model(model, spec, calibration, pairs, methods=("minmax",), split_prelu=True):
    """`calibrated_int8_model` with each range method of `methods` (a name
    or a sequence of `CALIBRATION_METHODS`) and each float form of
    `int8_float_form` (channels as trained or equalized, kernels rounded to
    nearest by the converter or, with the range method that won on the
    others, compensated), whichever int8 file scores
    the highest Y PSNR on `pairs` (`EvalPair`s of whole training images, as
    QAT's range choice); returns (model, its name, e.g. "mse, equalized,
    rounded", {name: PSNR}).

    Why both channel forms: equalizing took FSRCNN's file (x2, 10k steps)
    from a 0.763 / 0.387 dB drop on Set5 / Set14 to 0.201 / 0.103, but the
    zoo's x2 ABPN, whose ReLU channels are already even, from 0.075 / 0.042
    to 0.068 / 0.045 (bench/equalize.py), and on random nets it can lose
    (narrow channels' readers then hold small weights, which per-channel
    weight scales round coarsely).  Why compensated rounding: it moved
    another FSRCNN's file from a 0.46 / 0.24 dB drop (equalized) to 0.18 /
    0.10 (equalized, then rounded), and ESPCN's, whose loss is its tanh
    grid, not at all (README, "Weight rounding").  Why several methods:
    min/max ranges suit the ReLU nets with an anchor (zoo:x2 0.075 against
    0.10-0.13 with the others), MSE ranges SESR-M5 and the searched <= 9.5G
    net (0.094 / 0.064 and 0.090 / 0.056 against min/max's 0.108 / 0.057
    and 0.103 / 0.053); the 12-image PSNR picked MSE for both (README,
    "PReLU split through the long residual")."""
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    equalized = int8_float_form(model, spec, calibration, equalize=True)
    psnr, best = {}, None

    def consider(method, form, float_model):
        nonlocal best
        name = f"{method}, {form}"
        candidate = calibrated_int8_model(float_model, spec, calibration, method, split_prelu)  # the form as given
        psnr[name] = int8_file_psnr(candidate, calibration, pairs, spec.scale)
        if best is None or psnr[name] > psnr[best[0]]:
            best = (name, candidate, method)

    unrounded = {form: equalized if eq else model for form, (eq, rounds) in INT8_FORMS.items() if not rounds}
    for method in methods:
        for form, float_model in unrounded.items():
            consider(method, form, float_model)
    # Compensated rounding hardly changes the float function (0.002-0.004 dB on the nets measured), so
    # nor the activation ranges: the rounded forms get the winning range method only, 2 more files.
    method = best[2]
    for form, (eq, rounds) in INT8_FORMS.items():
        if rounds:
            consider(method, form, int8_float_form(equalized if eq else model, spec, calibration, round_weights=True))
    return best[1], best[0], psnr


def int8_file_bytes(model, spec, calibration, round_weights=False):
    """The full-integer int8 TFLite bytes (float32 I/O) of a Keras 3
    generator of `spec`, calibrated on `calibration` (LR patches `(1, h, w,
    C)`) with min/max ranges, channels as trained, kernels as trained or
    (`round_weights`) rounded with the error compensated: two of the eight
    files `tfsr-export --quantize=int8` compares
    (`best_calibrated_int8_model`).  A search scores candidates without
    that choice, which needs whole training images and eight conversions,
    so a candidate's int8 score can be under what its export keeps; it
    rounds, because of the two the rounded file is the nearer to what the
    export keeps (FSRCNN x2, percentile ranges, Set5: 0.83 dB under float
    as trained, 0.47 rounded, 0.18 the export's pick)."""
    return convert(calibrated_int8_model(model, spec, calibration, round_weights=round_weights), "int8_qat",
                   calibration)  # fmt: skip


def int8_file_psnr(fake_quant_model, calibration, pairs, scale):
    """Mean Y PSNR on `pairs` (`EvalPair`s) of the int8 file (float32 I/O)
    that the fake-quant tf_keras model converts to; -inf for a file that
    ai-edge-litert cannot prepare (`runtime_failure`)."""
    from tfsr.evaluation import evaluate
    from tfsr.inference import TFLiteUpscaler

    data = convert(fake_quant_model, "int8_qat", calibration)
    if runtime_failure(data):
        return -math.inf
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "candidate.tflite")
        with open(path, "wb") as f:
            f.write(data)
        return evaluate(TFLiteUpscaler(path), pairs, scale)["mean"]["psnr"]


def runtime_failure(data):
    """Why ai-edge-litert cannot prepare the TFLite flatbuffer `data` with
    its default XNNPACK delegate (how every tfsr file runs), or None when it
    can.  The usual cause in int8: a layer whose activations were all zero
    on the calibration patches (a dead ReLU layer) gets an empty range, and
    XNNPACK refuses the conv writing into it (the scale ratio is out of its
    range)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        with muted_stderr():  # XNNPACK announces itself on stderr
            Interpreter(model_content=bytes(data)).allocate_tensors()
    except (RuntimeError, ValueError) as e:
        return " ".join(str(e).split())
    return None
