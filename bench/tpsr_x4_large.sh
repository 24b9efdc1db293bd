#!/usr/bin/env bash
# Capacity: the x4 pipeline with the largest generator its search tried instead
# of the one it picked.  The 1,000-step proxy ranks what learns fastest (the
# front ends at 6,979 params of the 61.1K allowed, and two specs that differ
# in one skip link scored 30.02 and 29.57 dB), so the largest trial,
# configs/specs/tpsr_x4_searched_large.json (trial 03 of
# runs/tpsr_pipeline_x4: 47,843 params, 3.51G mult-adds at 320x180, proxy
# 29.09 dB), goes through the same stages and budgets: 20,000 PSNR steps,
# 1,000 GAN steps at 5e-5 with the VGG16 loss.  The discriminator is the one
# searched for the small generator (stage 3 of bash bench/tpsr_x4.sh, copied;
# searching again takes 27 min here); no SRGAN-D baseline.
#
#     bash bench/tpsr_x4_large.sh [RUNS_DIR]      # resumable
source "$(dirname "$0")/shell_env.sh"
RUNS=${1:-runs}
SRC="$RUNS/tpsr_pipeline_x4"
W="$RUNS/tpsr_x4_large"
[ -f "$SRC/3_discriminator_search/front.json" ] || { echo "run bash bench/tpsr_x4.sh first ($SRC)"; exit 1; }
mkdir -p "$W"
[ -e "$W/3_discriminator_search" ] || cp -r "$SRC/3_discriminator_search" "$W/3_discriminator_search"
$PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$W" \
  --config.generator=configs/specs/tpsr_x4_searched_large.json --config.baseline_discriminator=""
