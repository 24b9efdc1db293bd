#!/usr/bin/env bash
# The three x4 tails of TPSR's space, each through the whole tfsr-tpsr pipeline
# (configs/tpsr_x4.py:pipeline budgets: generator search, PSNR training,
# discriminator search, 1,000 GAN steps with the VGG16 loss), then their GAN
# generators side by side (bench/perceptual_x4.py: LPIPS, grid and blocks
# columns, crops):
#   subpixel                 TPSR's sub-pixel shuffle: a 4-pixel grid after GAN training
#   resize_conv              nearest x4 + 3x3 conv: no grid, flat 4x4 tiles
#   progressive_resize_conv  nearest x2 + 3x3 conv + PReLU, nearest x2 + 3x3 conv (the config's)
#
#     bash bench/x4_tails.sh [RUNS_DIR]      # default: runs; resumable (about 1.5 h per pipeline on 2 cores)
source "$(dirname "$0")/shell_env.sh"
R=${1:-runs}
W=../shared/weights
for tail in subpixel resize_conv; do
  $PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --config.generator_search.space.upsampler=$tail \
    --workdir="$R/tpsr_pipeline_x4_$tail"
done
$PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$R/tpsr_pipeline_x4"
$PY bench/perceptual_x4.py --lpips_weights="$W/lpips_alex_v0.1.npz,$W/lpips_squeeze_v0.1.npz" \
  --model "sub-pixel GAN=$R/tpsr_pipeline_x4_subpixel/4_gan/generator.keras" \
  --model "resize-conv GAN=$R/tpsr_pipeline_x4_resize_conv/4_gan/generator.keras" \
  --model "progressive resize-conv GAN=$R/tpsr_pipeline_x4/4_gan/generator.keras" \
  --sets ../shared/data/val/Set5,../shared/data/val/Set14 --out="$R/x4_tails"
