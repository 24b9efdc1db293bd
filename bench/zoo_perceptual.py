"""Measures and installs the x4 perceptual generator of a tfsr-tpsr run as `zoo:x4-perceptual`.

    python bench/zoo_perceptual.py --pipeline=runs/tpsr_pipeline_x4 [--install]

The entry is the run's GAN generator trained against the searched
discriminator (WORKDIR/4_gan/generator.keras; `bash bench/tpsr_x4.sh` makes
it with the budgets of configs/tpsr_x4.py:pipeline).  Measured like the
other zoo entries (bench/zoo.py: float and int8 Set5/Set14 PSNR/SSIM, params
and mult-adds at 640x360, 1-thread int8 latency), plus LPIPS-alex,
LPIPS-squeeze and the grid strength of both forms.  `--install` copies
spec.json, model.keras and model_int8.tflite into
tfsr/pretrained/x4-perceptual/ and adds the entry, with its own budget, to
tfsr/pretrained/zoo.json.
"""

import argparse
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from measure import measure  # noqa: E402  (bench/measure.py)
from zoo import ROOT, compact_keras  # noqa: E402  (bench/zoo.py)

ENTRY = "x4-perceptual"
BUDGET = ("tfsr-tpsr --config=configs/tpsr_x4.py:pipeline: TPSR-space generator search with a progressive resize-conv tail "
          "(24 trials x 1,000 proxy steps), 20,000 PSNR steps (L1, Adam 1e-3 cosine, batch 16, 24px LR patches), "
          "6-trial discriminator search (200 GAN steps each), 1,000 GAN steps (Adam 5e-5, RaGAN; L1 0.01 + VGG16 "
          "relu1_2/relu2_2 1 + adversarial 0.005) against the searched discriminator; T91 + BSD200, RGB")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default="runs/tpsr_pipeline_x4")
    parser.add_argument("--weights", default="../shared/weights")
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    from tfsr import pretrained
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.gan.report import perceptual_metrics
    from tfsr.perceptual import LPIPS

    run = os.path.abspath(os.path.join(args.pipeline, "4_gan"))
    model = os.path.join(run, "generator.keras")
    lpips = [LPIPS.load(os.path.join(args.weights, f"lpips_{b}_v0.1.npz")) for b in ("alex", "squeeze")]
    eval_sets = {s: load_eval_set(f"../shared/data/val/{s}/x4", 4) for s in ("Set5", "Set14")}
    calibration = PatchDataset("../shared/data/train/T91,../shared/data/train/BSD200", 4, 24, 16, color="rgb", seed=0)
    result = measure(model, f"zoo:{ENTRY}", calibration, eval_sets, 4, perceptual_metrics(lpips, 4))
    result["budget"] = BUDGET
    for form in ("float", "int8"):
        for s in eval_sets:
            (p, q), extra = result[f"{form}_{s}"], result[f"{form}_{s}_extra"]
            print(f"{form:>5} {s:<6} PSNR {p:.2f}  SSIM {q:.4f}  " + "  ".join(f"{k} {v:.4f}" for k, v in extra.items()))
    print(f"params {result['params']:,}, {result['mult_adds'] / 1e9:.2f}G mult-adds at 640x360, "
          f"int8 {result['int8_ms_1thread']:.0f} ms (1 thread)")  # fmt: skip
    if args.install:
        target = os.path.join(pretrained.ZOO_DIR, ENTRY)
        os.makedirs(target, exist_ok=True)
        shutil.copyfile(os.path.join(run, "generator_spec.json"), os.path.join(target, "spec.json"))
        shutil.copyfile(result.pop("int8_file"), os.path.join(target, pretrained.FILES["int8"]))
        compact_keras(model, os.path.join(target, pretrained.FILES["float"]))
        manifest_path = os.path.join(pretrained.ZOO_DIR, "zoo.json")
        with open(manifest_path) as f:
            manifest = json.load(f)
        manifest["entries"][ENTRY] = result
        with open(manifest_path, "w") as f:
            json.dump(manifest, f, indent=1)
        print(f"installed zoo:{ENTRY} into {target}")


if __name__ == "__main__":
    main()
