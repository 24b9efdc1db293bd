#!/usr/bin/env bash
# TPSR end to end with a searched x4 generator and the VGG16 perceptual loss,
# the budgets fixed in configs/tpsr_x4.py:pipeline (24-trial generator search
# of 1,000 proxy steps; 20,000 PSNR steps; 6-trial discriminator search of 200
# GAN steps; 1,000 GAN steps against the searched and the SRGAN
# discriminator), then the table of bench/perceptual_x4.py for its models and
# the hand-made generator's (bash bench/perceptual_x4.sh, if its runs exist).
#
#     bash bench/tpsr_x4.sh [RUNS_DIR]      # default: runs; resumable
source "$(dirname "$0")/shell_env.sh"
RUNS=${1:-runs}
W=../shared/weights

$PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$RUNS/tpsr_pipeline_x4"

P="$RUNS/tpsr_pipeline_x4"
models=(--model "searched, PSNR=$P/2_psnr/model.keras" --model "searched, GAN vgg16 searched D=$P/4_gan/generator.keras"
        --model "searched, GAN vgg16 srgan D=$P/4_gan_srgan/generator.keras")
if [ -f "$RUNS/tpsr_gan_searched_x4/generator.keras" ]; then
  models+=(--model "hand-made, PSNR=$RUNS/tpsr_psnr_x4/model.keras"
           --model "hand-made, GAN alex searched D=$RUNS/tpsr_gan_searched_x4/generator.keras"
           --model "hand-made, GAN alex srgan D=$RUNS/tpsr_gan_srgan_x4/generator.keras")
fi
$PY bench/perceptual_x4.py --lpips_weights="$W/lpips_alex_v0.1.npz,$W/lpips_squeeze_v0.1.npz" "${models[@]}" \
  --out="$RUNS/tpsr_x4_bench"
