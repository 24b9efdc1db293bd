r"""tfsr-export: a trained generator -> TFLite (optionally quantized) or a TF Serving SavedModel.

    tfsr-export --model=runs/x/model.keras --format=tflite --quantize=int8 \
        --io_type=uint8 --out=x_int8.tflite
    tfsr-export --model=runs/x/model.keras --format=tflite --quantize=int8_qat \
        --out=x_qat.tflite
    tfsr-export --model=runs/x/model.keras --format=savedmodel --out=serving

The architecture comes from spec.json beside --model (or --arch).  int8
calibration and QAT draw patches from --train_data; the report compares
PSNR before and after export on --val_data.  Exported .tflite files and
SavedModel folders work as --model of tfsr-evaluate and tfsr-upscale.
"""

import os

from tfsr.cli import common
from tfsr.export.exporter import BEST_CALIBRATION, CALIBRATIONS

from absl import flags  # noqa: E402

flags.DEFINE_string("model", None, "The trained generator (.keras), or a pretrained zoo model (zoo:x2).")
flags.DEFINE_string("arch", None, "Its ArchSpec .json, when no spec.json lies beside --model.")
flags.DEFINE_enum("format", "tflite", ["tflite", "savedmodel"], "What to export.")
flags.DEFINE_enum("quantize", "none", ["none", "float16", "dynamic", "int8", "int8_qat", "int16x8"],
                  "TFLite quantization (int16x8: 16-bit activations, 8-bit weights).")  # fmt: skip
flags.DEFINE_enum("io_type", "float32", ["float32", "uint8", "int8"], "Input/output type of int8 TFLite models.")
flags.DEFINE_string("out", None, "FILE.tflite, or the SavedModel base folder (DIR/<model_name>/<version>/).")
flags.DEFINE_string("model_name", None, "SavedModel name (default: the spec's name).")
flags.DEFINE_integer("version", 1, "SavedModel version number.")
flags.DEFINE_integer("max_pixels", 1 << 21, "SavedModel: the largest request served, in LR pixels (batch x H x W);"
                     " larger ones are refused with a clear error instead of exhausting the server's memory.",
                     lower_bound=1)
flags.DEFINE_boolean("overwrite", False, "Replace an existing --out file or SavedModel version (never --model).")
flags.DEFINE_string("train_data", None, "Images for int8 calibration and QAT, comma-separated (default: bundled).")
flags.DEFINE_string("val_data", None, "Validation set for the before/after PSNR (default: bundled).")
flags.DEFINE_integer("representative_samples", 200, "Calibration patches for --quantize=int8.")
flags.DEFINE_enum("calibration", BEST_CALIBRATION, list(CALIBRATIONS),
                  "How int8 activation ranges are set from the calibration patches: the extremes seen, the "
                  "0.01/99.99% percentiles, the clipping with the least quantization error, or best: each of "
                  "those, keeping the file that scores highest on whole training images. With int8_qat: the "
                  "ranges QAT starts from (best: min/max; the file keeps the set that scores best after it).")  # fmt: skip
flags.DEFINE_boolean("split_prelu", True, "Calibrated files (int8, int8_qat, int16x8): compute each PReLU between "
                     "convs as ReLUs on twice the channels, exactly (one int8 rounding per conv instead of two, "
                     "and ReLU fuses into the conv). --nosplit_prelu keeps the PRELU ops.")  # fmt: skip
# 6,000 steps from 3e-5: the searched x2 models' split files lost least that way (bench/qat_schedule.py;
# README, "PReLU split"); about 5 minutes for a 2.3G model on a 2-core CPU with 24-pixel patches, about 4x that
# with the 48-pixel x2 default (`patch_side`), which halves what the zoo's x2 file loses.
flags.DEFINE_integer("qat_steps", 6000, "Quantization-aware fine-tuning steps for --quantize=int8_qat.")
flags.DEFINE_float("qat_learning_rate", 3e-5, "Initial learning rate of the QAT fine-tuning (cosine decay).")
flags.DEFINE_integer("batch_size", 16, "Batch size of QAT fine-tuning.")
flags.DEFINE_integer("patch_size", None, "LR patch side for calibration and QAT (default: 96 HR pixels, "
                     "i.e. 48 at x2, 32 at x3, 24 at x4; larger patches QAT better, tfsr.export.exporter.patch_side).")
flags.mark_flags_as_required(["model", "out"])
FLAGS = flags.FLAGS


def main(argv):
    from tfsr import pretrained, samples
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.exporter import export, patch_side
    from tfsr.outputs import check_output_file, check_writable_location
    from tfsr.runs import load_trained, spec_for_model

    if FLAGS.qat_steps < 1 or FLAGS.representative_samples < 1 or FLAGS.version < 1:
        common.fail("--qat_steps, --representative_samples and --version must be positive")
    if FLAGS.patch_size is not None and FLAGS.patch_size < 1:
        common.fail(f"--patch_size must be positive, got {FLAGS.patch_size}")
    out = FLAGS.out
    model_path = pretrained.resolve(FLAGS.model)
    spec = spec_for_model(model_path, FLAGS.arch)
    if FLAGS.format == "tflite":
        check_output_file(out, "--out", FLAGS.overwrite, inputs=[model_path])
    else:
        version = os.path.join(out, FLAGS.model_name or spec.name, str(FLAGS.version))
        if os.path.exists(version) and not FLAGS.overwrite:
            common.fail(f"--out={out}: {version} already exists; pass --overwrite or a new --version")
        if os.path.isfile(out):
            common.fail(f"--out={out} is a file; name the SavedModel base folder")
        check_writable_location(os.path.join(out, "x"), "--out")
    model = load_trained(model_path, spec)
    color = "y" if spec.channels == 1 else "rgb"
    train = None
    if FLAGS.quantize in ("int8", "int8_qat", "int16x8"):
        patch = FLAGS.patch_size or patch_side(spec.scale)
        train = PatchDataset(FLAGS.train_data or samples.TRAIN_DIR, spec.scale, patch, FLAGS.batch_size,
                             color=color, seed=0)  # fmt: skip
    val = load_eval_set(FLAGS.val_data or samples.VAL_DIR, spec.scale)
    print(f"exporting {spec.name} (x{spec.scale}, {model.count_params():,} params) as {FLAGS.format}", flush=True)
    report = export(
        model,
        spec,
        FLAGS.format,
        out,
        quantize=FLAGS.quantize,
        io_type=FLAGS.io_type,
        train_data=train,
        val_pairs=val,
        representative_samples=FLAGS.representative_samples,
        calibration=FLAGS.calibration,
        qat_steps=FLAGS.qat_steps,
        qat_learning_rate=FLAGS.qat_learning_rate,
        model_name=FLAGS.model_name,
        version=FLAGS.version,
        max_pixels=FLAGS.max_pixels,
        split_prelu=FLAGS.split_prelu,
        log=lambda message: print(message, flush=True),
    )
    print("\n".join(report.lines()))
    print(f"(PSNR on {FLAGS.val_data or 'the bundled validation images'}, Y channel, {spec.scale}-pixel border)")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
