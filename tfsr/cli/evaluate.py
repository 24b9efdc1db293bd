r"""tfsr-evaluate: PSNR/SSIM (Y channel, `scale` border), optionally LPIPS, of a model on a set.

    tfsr-evaluate --model=runs/x/model.keras --data=val/Set5 --scale=2
    tfsr-evaluate --model=bicubic --data=val/Set14 --scale=4 --json_out=r.json
    tfsr-evaluate --model=gan/generator.keras --data=val/Set5 --scale=4 \
        --lpips_weights=../shared/weights/lpips_alex_v0.1.npz   # adds LPIPS (,..squeeze..npz: LPIPS-squeeze too)
"""

import json

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("model", None, "A .keras or .tflite model, a SavedModel folder (tfsr-export), 'bicubic', or a pretrained"
                    " model: zoo:x2, zoo:x3, zoo:x4 (float) or zoo:x2-int8 etc. (int8 TFLite).")
flags.DEFINE_integer("num_threads", None, "Interpreter threads for .tflite models (default: the runtime's).")
flags.DEFINE_string("data", None, "Evaluation folder(s), comma-separated (default: bundled samples).")
flags.DEFINE_integer("scale", 2, "Upscaling factor.", lower_bound=2)
flags.DEFINE_string("json_out", None, "Also write the report as JSON here (a new file).")
flags.DEFINE_boolean("overwrite", False, "Replace an existing --json_out file.")
flags.DEFINE_string("lpips_weights", None, "LPIPS weights (.npz), comma-separated: each adds a column (RGB, full "
                    "image): lpips for the AlexNet file, lpips_squeeze for the SqueezeNet one.")  # fmt: skip
flags.DEFINE_integer("tile", 0, "LR tile size for tiled inference (0: whole images).")
flags.mark_flag_as_required("model")
FLAGS = flags.FLAGS


def main(argv):
    from tfsr import samples
    from tfsr.data.evalsets import load_eval_set
    from tfsr.evaluation import evaluate, format_table
    from tfsr.inference import load_upscaler
    from tfsr.outputs import check_output_file

    if FLAGS.json_out:  # checked before the work, not after it
        check_output_file(FLAGS.json_out, "--json_out", FLAGS.overwrite)
    upscaler = load_upscaler(FLAGS.model, FLAGS.scale, tile=FLAGS.tile, num_threads=FLAGS.num_threads)
    extra = {}
    if FLAGS.lpips_weights is not None:
        from tfsr.perceptual import LPIPS

        for path in FLAGS.lpips_weights.split(","):
            metric = LPIPS.load(path, flag="--lpips_weights")
            extra[metric.metric_name] = metric.score
    reports = {}
    for folder in (FLAGS.data or samples.VAL_DIR).split(","):
        pairs = load_eval_set(folder, FLAGS.scale)
        report = evaluate(upscaler, pairs, FLAGS.scale, extra)
        print(format_table(report, title=f"{FLAGS.model} on {folder} (x{FLAGS.scale})"))
        if pairs.skipped:
            print(f"{folder}: {pairs.skipped.summary()}")
            report["skipped"] = list(pairs.skipped)
        reports[folder] = report
    if FLAGS.json_out:
        out = next(iter(reports.values())) if len(reports) == 1 else {"sets": reports}
        with open(FLAGS.json_out, "w") as f:
            json.dump(out, f, indent=1)
        print(f"report written to {FLAGS.json_out}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
