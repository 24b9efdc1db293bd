"""PSNR-only vs perceptual+adversarial generators: PSNR, SSIM and LPIPS, plus crops.

    python bench/perceptual_x4.py --lpips_weights=../shared/weights/lpips_alex_v0.1.npz \
        --model psnr=runs/tpsr_psnr_x4/model.keras \
        --model gan_srgan=runs/tpsr_gan_srgan_x4/generator.keras \
        --model gan_searched=runs/tpsr_gan_searched_x4/generator.keras \
        --sets ../shared/data/val/Set5,../shared/data/val/Set14 --out runs/perceptual_x4

Bicubic is always the first row.  PSNR/SSIM are on Y with a `scale` border
cropped (as SR papers quote them); LPIPS is on the full RGB image (as the
LPIPS reference figures are).  Writes OUT/results.json and OUT/crops.png
(bicubic | each model | HR on the most detailed crop of each image).
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfsr.data.evalsets import load_eval_set  # noqa: E402
from tfsr.evaluation import evaluate  # noqa: E402
from tfsr.inference import BicubicUpscaler, load_upscaler  # noqa: E402
from tfsr.perceptual import LPIPS  # noqa: E402
from tfsr.visualize import before_after_row, comparison_grid  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lpips_weights", required=True)
    parser.add_argument("--model", action="append", default=[], help="NAME=PATH (repeatable)")
    parser.add_argument("--sets", default="../shared/data/val/Set5,../shared/data/val/Set14")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--crops", type=int, default=6, help="images shown in crops.png")
    parser.add_argument("--out", default="runs/perceptual_x4")
    args = parser.parse_args()

    lpips = LPIPS.load(args.lpips_weights)
    upscalers = {"bicubic": BicubicUpscaler(args.scale)}
    for item in args.model:
        name, path = item.split("=", 1)
        upscalers[name] = load_upscaler(path, args.scale)
    os.makedirs(args.out, exist_ok=True)

    results, pairs_for_crops = {}, []
    for folder in args.sets.split(","):
        pairs = load_eval_set(folder, args.scale)
        set_name = os.path.basename(folder.rstrip("/"))
        results[set_name] = {n: evaluate(u, pairs, args.scale, {"lpips": lpips.score}) for n, u in upscalers.items()}
        pairs_for_crops += pairs
    print(f"x{args.scale}: PSNR / SSIM (Y, border {args.scale}) and LPIPS (RGB, full image)")
    print(f"{'model':<16}" + "".join(f"  {s:>24}" for s in results))
    for name in upscalers:
        cells = "".join(
            f"  {r[name]['mean']['psnr']:6.2f} {r[name]['mean']['ssim']:.4f} {r[name]['mean']['lpips']:.4f}"
            for r in results.values()
        )
        print(f"{name:<16}{cells}")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    strips = []
    for pair in pairs_for_crops[: args.crops]:
        outputs = [(n, u.super_resolve(pair.lr).image) for n, u in upscalers.items()]
        strips.append(before_after_row(pair.name, outputs, pair.hr, crop_size=80))
    comparison_grid(strips).save(os.path.join(args.out, "crops.png"))
    print(f"written: {args.out}/results.json, {args.out}/crops.png")


if __name__ == "__main__":
    main()
