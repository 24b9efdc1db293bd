"""`export()`: one trained generator -> a deployable file, with a quality report.

The steps, in order: rebuild the generator from its `ArchSpec` (Keras 3 for
the SavedModel, tf_keras for TFLite), convert, then score the exported file
against the Keras model on a validation set, so every export states what
compression cost.
"""

import dataclasses
import os

from tfsr.errors import UserError

# Whole training images (centre crops of at most this many HR pixels a side) that pick the ranges a QAT file keeps
RANGE_CHOICE_IMAGES, RANGE_CHOICE_SIDE = 12, 384
# How int8 activation ranges are set from calibration patches (`tfkeras_model.calibrate_ranges`), and the
# choice of `export(calibration=...)` that tries each, the int8 file keeping the best.  Here, not beside the
# calibration, so that flags and config checks read them without importing TensorFlow.
CALIBRATION_METHODS = ("minmax", "percentile", "mse")
BEST_CALIBRATION = "best"
CALIBRATIONS = (BEST_CALIBRATION, *CALIBRATION_METHODS)  # what export(calibration=...) takes
# The HR side of the training patches that int8 calibration and QAT read (`patch_side`).
QUANTIZATION_HR_PATCH = 96


def patch_side(scale):
    """The LR patch side that `tfsr-export` calibrates and fine-tunes int8
    on at `scale`: `QUANTIZATION_HR_PATCH` HR pixels, 48 LR pixels at x2.

    Why not 24 (the default before 2026-12-07): QAT of the zoo's x2 model
    (2,000 steps at 1e-4, T91 + BSD200) on 48-pixel LR patches lost 0.020 /
    0.022 and 0.019 / 0.024 dB on Set5 / Set14 (two patch streams), on
    24-pixel ones 0.039 / 0.043 and 0.036 / 0.042 (the same two streams):
    likely because a small patch is mostly border, where the convs see zero
    padding instead of the image a file upscales (not measured).
    Post-training calibration does not care (24 pixels: 0.081 / 0.053 dB,
    48 pixels: 0.084 / 0.058).  Why a fixed HR side rather than 48 at every
    scale: the bundled sample images are 129-160 pixels, and a PatchDataset
    skips images smaller than its HR crop."""
    return QUANTIZATION_HR_PATCH // scale


@dataclasses.dataclass
class ExportReport:
    path: str
    format: str
    quantize: str
    size_bytes: int
    psnr_before: float  # Keras model, mean over the validation set (Y, dB)
    psnr_after: float  # the exported file, same images

    def lines(self):
        drop = self.psnr_before - self.psnr_after
        return [
            f"exported:  {self.path}",
            f"format:    {self.format}" + (f" ({self.quantize})" if self.format == "tflite" else ""),
            f"size:      {self.size_bytes / 1024:.1f} KiB",
            f"PSNR:      {self.psnr_before:.3f} dB (Keras) -> {self.psnr_after:.3f} dB (exported), drop {drop:+.3f} dB",
        ]


def size_on_disk(path):
    """Bytes of a file, or of everything under a folder (a SavedModel)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def export(
    model,
    spec,
    fmt,
    out,
    quantize="none",
    io_type="float32",
    train_data=None,
    val_pairs=(),
    representative_samples=200,
    calibration="best",
    qat_steps=6000,
    qat_learning_rate=3e-5,
    model_name=None,
    version=1,
    max_pixels=None,
    split_prelu=True,
    log=print,
):
    """Exports `model` (a Keras 3 generator of `spec`); returns an `ExportReport`.

    Args:
        fmt: "tflite" (to the file `out`) or "savedmodel" (to the folder
            `out/model_name/version`).
        train_data: `PatchDataset` for int8 calibration and QAT.
        calibration: how activation ranges are set from the calibration
            patches (`CALIBRATION_METHODS`): "minmax", "percentile" or
            "mse", set on the TFMOT fake-quant model, which then converts
            with exactly those ranges (`tflite.calibrated_int8_model`), or
            "best": each of them, with the channels as trained and
            equalized, then the winning method with both forms' kernels
            rounded with the error compensated
            (`tfsr.export.weight_rounding`), the int8 file keeping the one
            that scores highest on whole training images
            (`tflite.best_calibrated_int8_model`).  For int8_qat, the
            ranges QAT starts from ("best": min/max); the file keeps
            whichever set fits the fine-tuned weights best
            (`deployable_qat_model`).
        val_pairs: `EvalPair`s for the before/after PSNR.
        max_pixels: the SavedModel's request bound in LR pixels (None: its default).
        split_prelu: calibrated files (int8, int8_qat, int16x8) compute each
            PReLU between convs as ReLUs on twice the channels
            (`tfsr.arch.prelu_split`; exact in float): the searched <= 2.3G
            x2 model's QAT file loses 0.047 / 0.050 dB on Set5 / Set14
            instead of 0.125 / 0.087, and runs 3x faster on XNNPACK
            (bench/prelu_split.py).
    """
    from tfsr.evaluation import evaluate
    from tfsr.inference import KerasUpscaler, load_upscaler

    if fmt == "tflite":
        from tfsr.export import tflite
        from tfsr.export.tfkeras_model import (
            build_tfkeras_model,
            copy_weights,
            deployable_qat_model,
            quantize_model,
        )

        if not out.endswith(".tflite"):
            raise UserError(f"--out={out}: a TFLite model file should end in .tflite")
        representative = None
        if quantize in tflite.CALIBRATED_MODES:
            log(f"calibrating {quantize} ranges on {representative_samples} training patches")
            representative = tflite.representative_patches(train_data, representative_samples)
        if quantize == "int8_qat":
            log(f"quantization-aware fine-tuning for {qat_steps} steps (TFMOT, tf_keras)")
            start = "minmax" if calibration == BEST_CALIBRATION else calibration
            qat_model = quantize_model(spec, model, calibration=representative, native_groups=False,
                                       method=start, split_prelu=split_prelu)  # fmt: skip
            qat_model = tflite.qat_finetune(qat_model, train_data, qat_steps, qat_learning_rate, log=log)
            # Same weights, grouped convs (the faster int8 layout), the best of several range sets.
            pairs = tflite.training_images(train_data, RANGE_CHOICE_IMAGES, RANGE_CHOICE_SIDE)
            tfk_model, ranges, psnr = deployable_qat_model(spec, qat_model, representative, pairs,
                                                           split_prelu=split_prelu)  # fmt: skip
            log(f"activation ranges: {ranges} (PSNR on {len(pairs)} training images: "
                + ", ".join(f"{name} {value:.3f}" for name, value in psnr.items()) + " dB)")  # fmt: skip
        elif quantize == "int8":
            pairs = tflite.training_images(train_data, RANGE_CHOICE_IMAGES, RANGE_CHOICE_SIDE)
            methods = CALIBRATION_METHODS if calibration == BEST_CALIBRATION else (calibration,)
            tfk_model, ranges, psnr = tflite.best_calibrated_int8_model(model, spec, representative, pairs,
                                                                        methods, split_prelu)  # fmt: skip
            log(f"activation ranges: {ranges} (PSNR on {len(pairs)} training images: "
                + ", ".join(f"{name} {value:.3f}" for name, value in psnr.items()) + " dB)")  # fmt: skip
        else:
            # Grouped convs split into per-group convs: faster in float (int8 files,
            # built above, keep one grouped CONV_2D, which is faster there).
            split = split_prelu and quantize in tflite.CALIBRATED_MODES
            source = model
            if quantize == "int16x8":  # 16-bit activations leave the weights' rounding as the file's main error
                from tfsr.export.weight_rounding import rounded_model

                log("rounding the kernels onto the int8 grid with the error compensated (GPTQ)")
                source = rounded_model(model, spec, representative, converter_grid=True)
            tfk_model = copy_weights(source, build_tfkeras_model(spec, native_groups=False, split_prelu=split),
                                     spec if split else None)  # fmt: skip
        flavour = "int8_qat" if quantize == "int8" else quantize  # int8: a fake-quant model, as QAT's
        data = tflite.convert(tfk_model, flavour, representative, io_type)
        failure = tflite.runtime_failure(data)
        if failure:
            raise UserError(f"--out={out}: not written: ai-edge-litert cannot run the {quantize} file ({failure}). "
                            "Usually a layer is dead (all activations zero on the calibration patches): "
                            "retrain the model, or export with --quantize=float16")  # fmt: skip
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        tmp = out + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
        path = out
    elif fmt == "savedmodel":
        from tfsr.export.savedmodel import export_savedmodel

        if quantize != "none":
            raise UserError(f"--quantize={quantize} applies to --format=tflite only")
        from tfsr.export.savedmodel import DEFAULT_MAX_PIXELS

        path = export_savedmodel(model, spec, out, model_name or spec.name, version, max_pixels or DEFAULT_MAX_PIXELS)
    else:
        raise UserError(f"--format must be tflite or savedmodel, got {fmt!r}")

    before = after = float("nan")
    if val_pairs:
        before = evaluate(KerasUpscaler(model, scale=spec.scale), val_pairs, spec.scale)["mean"]["psnr"]
        after = evaluate(load_upscaler(path, spec.scale), val_pairs, spec.scale)["mean"]["psnr"]
    return ExportReport(path, fmt, quantize, size_on_disk(path), before, after)
