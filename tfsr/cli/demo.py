"""The main job on the bundled sample images, end to end.

    make demo            (or: python tools/demo.py --workdir=runs/demo)

Trains a small generator on the images shipped inside the package, evaluates
it against bicubic upscaling on held-out samples, and writes a before/after
picture.  Re-running resumes (or reuses) the finished training.
"""

import json
import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", "runs/demo", "Where everything is written.")
flags.DEFINE_string("arch", "fsrcnn", "Architecture to train (built-in name or spec .json).")
flags.DEFINE_integer("scale", 2, "Upscaling factor.")
flags.DEFINE_integer("steps", 600, "Training steps.")
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        common.fail(f"unexpected arguments: {' '.join(argv[1:])}")
    from tfsr import samples
    from tfsr.arch import zoo
    from tfsr.config import train_config
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate, format_table
    from tfsr.inference import BicubicUpscaler, KerasUpscaler
    from tfsr.train import Trainer
    from tfsr.visualize import busiest_crop, comparison_grid, comparison_strip

    workdir = os.path.abspath(FLAGS.workdir)
    spec = zoo.resolve(FLAGS.arch, FLAGS.scale)
    cfg = train_config()
    cfg.update(dict(steps=FLAGS.steps, checkpoint_every=200, log_every=100, patch_size=24, batch_size=16))
    print(f"== 1/3 training {spec.name} x{spec.scale} on the bundled sample images ({FLAGS.steps} steps)")
    train = PatchDataset(samples.TRAIN_DIR, spec.scale, cfg.patch_size, cfg.batch_size, seed=0)
    val = load_eval_set(samples.VAL_DIR, spec.scale)
    trainer = Trainer(spec, train, val, os.path.join(workdir, "train"), cfg)
    model = trainer.fit()

    print("== 2/3 evaluating against bicubic on the held-out samples")
    ours = KerasUpscaler(model, scale=spec.scale)
    bicubic = BicubicUpscaler(spec.scale)
    reports = {"bicubic": evaluate(bicubic, val, spec.scale), spec.name: evaluate(ours, val, spec.scale)}
    for name, report in reports.items():
        print(format_table(report, title=name))
    with open(os.path.join(workdir, "evaluation.json"), "w") as f:
        json.dump(reports, f, indent=1)

    print("== 3/3 writing before/after crops")
    rows = []
    for pair in val:
        sr, bi = ours.super_resolve(pair.lr).image, bicubic.super_resolve(pair.lr).image
        crop = busiest_crop(pair.hr, 96)
        rows.append(comparison_strip([("bicubic", bi), (spec.name, sr), ("HR", pair.hr)], crop=crop, zoom=3))
    figure = os.path.join(workdir, "before_after.png")
    comparison_grid(rows).save(figure)
    gain = reports[spec.name]["mean"]["psnr"] - reports["bicubic"]["mean"]["psnr"]
    print(f"\n{spec.name}: {reports[spec.name]['mean']['psnr']:.2f} dB vs bicubic {reports['bicubic']['mean']['psnr']:.2f} dB ({gain:+.2f} dB)")
    print(f"results in {workdir}:")
    print(f"  model           {trainer.model_path}")
    print(f"  evaluation      {os.path.join(workdir, 'evaluation.json')}")
    print(f"  before/after    {figure}")
    print(f"  TensorBoard     tensorboard --logdir {os.path.join(workdir, 'train', 'logs')}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
