"""Perceptual generators side by side: PSNR, SSIM, LPIPS-alex, LPIPS-squeeze, grid, blockiness, crops.

    python bench/perceptual_x4.py \
        --lpips_weights=../shared/weights/lpips_alex_v0.1.npz,../shared/weights/lpips_squeeze_v0.1.npz \
        --model psnr=runs/tpsr_psnr_x4/model.keras \
        --model gan_srgan=runs/tpsr_gan_srgan_x4/generator.keras \
        --sets ../shared/data/val/Set5,../shared/data/val/Set14 --out runs/perceptual_x4

Bicubic is always the first row.  PSNR/SSIM are on Y with a `scale` border
cropped (as SR papers quote them); LPIPS is on the full RGB image (as the
LPIPS reference figures are); grid is `tfsr.metrics.grid_strength` in dB
(about 0 for an output without a 4-pixel grid), blocks `tfsr.metrics.blockiness`
in dB (flat 4x4 tiles; bicubic about 1).  Params and mult-adds are
for a 320x180 LR input (TPSR's convention).  Writes OUT/results.json and
OUT/crops.png (bicubic | each model | HR on the most detailed crop of each
image).  `tfsr-tpsr` prints the same table for its own models.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfsr.arch import count  # noqa: E402
from tfsr.gan.report import format_scores, perceptual_metrics, score_models, write_crops, write_json  # noqa: E402
from tfsr.inference import BicubicUpscaler, load_upscaler  # noqa: E402
from tfsr.perceptual import LPIPS  # noqa: E402
from tfsr.runs import spec_for_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lpips_weights", required=True, help="LPIPS .npz files, comma-separated (alex, squeeze)")
    parser.add_argument("--model", action="append", default=[], help="NAME=PATH (repeatable)")
    parser.add_argument("--sets", default="../shared/data/val/Set5,../shared/data/val/Set14")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--crops", type=int, default=6, help="images shown in crops.png")
    parser.add_argument("--out", default="runs/perceptual_x4")
    args = parser.parse_args()

    lpips = [LPIPS.load(path) for path in args.lpips_weights.split(",")]
    upscalers, costs = {"bicubic": BicubicUpscaler(args.scale)}, {}
    for item in args.model:
        name, path = item.split("=", 1)
        upscalers[name] = load_upscaler(path, args.scale)
        cost = count(spec_for_model(path), (180, 320))
        costs[name] = (cost.params, cost.mult_adds)
    os.makedirs(args.out, exist_ok=True)
    results, pairs = score_models(upscalers, args.sets.split(","), args.scale, perceptual_metrics(lpips, args.scale))
    print(f"x{args.scale}: PSNR / SSIM (Y, border {args.scale}), LPIPS (RGB, full image), grid and blocks (dB); 320x180 LR costs")
    print(format_scores(results, costs))
    write_json(results, os.path.join(args.out, "results.json"))
    write_crops(upscalers, pairs, os.path.join(args.out, "crops.png"), count=args.crops)
    print(f"written: {args.out}/results.json, {args.out}/crops.png")


if __name__ == "__main__":
    main()
