#!/usr/bin/env bash
# The 4-pixel grid of x4 GAN outputs: the generator searched by tfsr-tpsr
# with TPSR's sub-pixel tail (run first, as the script does) with a
# resize-conv tail instead of its sub-pixel shuffle, trained with the same PSNR recipe (configs/tpsr_x4.py:psnr) and
# the same GAN recipe and VGG16 loss against the same searched discriminator,
# then both generators side by side (bench/perceptual_x4.py: grid column).
#
#     bash bench/grid_x4.sh [RUNS_DIR]      # default: runs; resumable
source "$(dirname "$0")/shell_env.sh"
R=${1:-runs}
W=../shared/weights
P="$R/tpsr_pipeline_x4_subpixel"
$PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --config.generator_search.space.upsampler=subpixel \
  --workdir="$P"
SPEC="$R/tpsr_x4_searched_resize_conv.json"
$PY - "$P" "$SPEC" <<'PY'
import glob, sys
from tfsr.arch import ArchSpec
spec = ArchSpec.load(glob.glob(f"{sys.argv[1]}/1_generator_search/top/1_trial_*.json")[0])
spec.name, spec.upsampler.type = "tpsr_x4_searched_resize_conv", "resize_conv"
spec.save(sys.argv[2])
PY
[ -f "$R/tpsr_resize_psnr_x4/model.keras" ] ||
  $PY tools/train.py --config=configs/tpsr_x4.py:psnr --arch="$SPEC" --workdir="$R/tpsr_resize_psnr_x4"
[ -f "$R/tpsr_resize_gan_x4/generator.keras" ] ||
  $PY tools/train_gan.py --config=configs/tpsr_x4.py --config.gan.perceptual=vgg16 \
    --generator="$R/tpsr_resize_psnr_x4/model.keras" --discriminator="$(ls "$P"/3_discriminator_search/top/1_trial_*.json)" \
    --lpips_weights="$W/lpips_alex_v0.1.npz" --workdir="$R/tpsr_resize_gan_x4"
$PY bench/perceptual_x4.py --lpips_weights="$W/lpips_alex_v0.1.npz,$W/lpips_squeeze_v0.1.npz" \
  --model "sub-pixel, PSNR=$P/2_psnr/model.keras" --model "sub-pixel, GAN=$P/4_gan/generator.keras" \
  --model "resize-conv, PSNR=$R/tpsr_resize_psnr_x4/model.keras" --model "resize-conv, GAN=$R/tpsr_resize_gan_x4/generator.keras" \
  --out="$R/grid_experiment"
