"""The main job on the bundled sample images, end to end.

    make demo            (or: python tools/demo.py --workdir=runs/demo)

1. searches FALSR's space under a mult-adds ceiling (configs/demo.py settings),
2. trains the best feasible spec of the Pareto front longer,
3. evaluates it against bicubic upscaling on held-out samples,
4. writes a before/after picture,
5. exports it as a full-integer (int8) TFLite model and reports its size and
   PSNR after quantization, and prints where everything is.

Re-running with the same --workdir resumes (finished steps are reused).
"""

import json
import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", "runs/demo", "Where everything is written.")
common.config_file_flag(default="demo")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.load_config()
    from tfsr import samples
    from tfsr.arch import ArchSpec, count
    from tfsr.search.run import run_search
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate, format_table
    from tfsr.inference import BicubicUpscaler, KerasUpscaler
    from tfsr.train import Trainer
    from tfsr.visualize import before_after_row, comparison_grid

    workdir = os.path.abspath(common.workdir(FLAGS.workdir))
    print(f"== 1/5 searching ({cfg.search.max_trials} trials, {cfg.proxy.steps} proxy steps each)", flush=True)
    rows = run_search(cfg, os.path.join(workdir, "search"))
    if not rows:
        common.fail("the search found no feasible architecture; relax search.max_mult_adds / min_psnr")
    best = max(rows, key=lambda r: r["psnr"])
    spec = ArchSpec.from_dict(best["spec"])
    cost = count(spec, (480, 480))
    print(f"\n== 2/5 training the best feasible spec (trial {best['trial_id']}: {cost.params:,} params, "
          f"{cost.mult_adds / 1e9:.2f}G mult-adds at 480x480) for {cfg.train.steps} steps", flush=True)
    train = PatchDataset(cfg.train_data or samples.TRAIN_DIR, spec.scale, cfg.train.patch_size, cfg.train.batch_size,
                         color=cfg.color, seed=0)  # fmt: skip
    val = load_eval_set(cfg.val_data or samples.VAL_DIR, spec.scale)
    trainer = Trainer(spec, train, val, os.path.join(workdir, "train"), cfg.train)
    model = trainer.fit()

    print("\n== 3/5 evaluating against bicubic on the held-out samples", flush=True)
    ours, bicubic = KerasUpscaler(model, scale=spec.scale), BicubicUpscaler(spec.scale)
    reports = {"bicubic": evaluate(bicubic, val, spec.scale), spec.name: evaluate(ours, val, spec.scale)}
    for name, report in reports.items():
        print(format_table(report, title=name))
    with open(os.path.join(workdir, "evaluation.json"), "w") as f:
        json.dump(reports, f, indent=1)

    print("\n== 4/5 writing before/after crops", flush=True)
    strips = []
    for pair in val:
        outputs = [("bicubic", bicubic.super_resolve(pair.lr).image), (spec.name, ours.super_resolve(pair.lr).image)]
        strips.append(before_after_row(pair.name, outputs, pair.hr, crop_size=96))
    figure = os.path.join(workdir, "before_after.png")
    comparison_grid(strips).save(figure)
    print("\n== 5/5 exporting a full-integer TFLite model (int8, calibrated on training patches)", flush=True)
    from tfsr.export.exporter import export

    tflite_path = os.path.join(workdir, f"{spec.name}_int8.tflite")
    exported = export(model, spec, "tflite", tflite_path, quantize="int8", train_data=train, val_pairs=val,
                      representative_samples=100, log=lambda message: print(message, flush=True))  # fmt: skip
    print("\n".join(exported.lines()))

    gain = reports[spec.name]["mean"]["psnr"] - reports["bicubic"]["mean"]["psnr"]
    print(f"\n{spec.name}: {reports[spec.name]['mean']['psnr']:.2f} dB vs bicubic "
          f"{reports['bicubic']['mean']['psnr']:.2f} dB ({gain:+.2f} dB) on the bundled validation images")
    print(f"results in {workdir}:")
    print(f"  Pareto front    {os.path.join(workdir, 'search', 'pareto.png')} (+ pareto.json, top/)")
    print(f"  model           {trainer.model_path}")
    print(f"  evaluation      {os.path.join(workdir, 'evaluation.json')}")
    print(f"  before/after    {figure}")
    print(f"  TFLite (int8)   {tflite_path} (tfsr-upscale --model=... runs it)")
    print(f"  TensorBoard     tensorboard --logdir {os.path.join(workdir, 'train', 'logs')}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
