#!/usr/bin/env bash
# The README's best x4 GAN recipe for longer: the largest generator of the
# x4 search (configs/specs/tpsr_x4_searched_large.json, 47,843 params, 3.51G
# mult-adds at 320x180), the same 20,000 PSNR steps and 6-trial discriminator
# search as bench/tpsr_x4.sh, then 3,000 GAN steps at 5e-5 (1,000 before)
# with the VGG16 loss also on images pooled by 2 (perceptual_scales=(1,2))
# and 128-pixel HR patches; validation LPIPS at every 250-step checkpoint
# (WORKDIR/4_gan/history.json) says where it levels off.  No SRGAN-D baseline.
#
#     bash bench/tpsr_x4_long_gan.sh [RUNS_DIR]      # resumable; about 3 h on 2 cores
source "$(dirname "$0")/shell_env.sh"
RUNS=${1:-runs}
$PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$RUNS/tpsr_x4_long_gan" \
  --config.generator=configs/specs/tpsr_x4_searched_large.json --config.baseline_discriminator="" \
  "--config.gan.gan.perceptual_scales=(1,2)" --config.gan.train.patch_size=32 --config.gan.train.steps=3000
