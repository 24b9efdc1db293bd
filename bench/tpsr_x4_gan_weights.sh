#!/usr/bin/env bash
# The x4 pipeline's perceptual + adversarial stage again with other loss weights,
# against the same PSNR-trained generator and searched discriminator (stages 1-3
# of bash bench/tpsr_x4.sh, copied), the same 1,000 steps at 5e-5; each run is
# scored and exported by tfsr-tpsr as usual (its 5_evaluation/scores.json).
#
#     bash bench/tpsr_x4_gan_weights.sh [RUNS_DIR] [ADV_WEIGHT ...]   # resumable
#
# Default weights: adversarial 1e-2 and 2e-2 (the pipeline's is 5e-3, ESRGAN's);
# pixel 1e-2 and perceptual 1.0 as in the pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
export TFSR_DATA="${TFSR_DATA:-$(cd .. && pwd)/shared/data}"
RUNS=${1:-runs}
shift || true
WEIGHTS=("${@:-1e-2 2e-2}")
PY=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
SRC="$RUNS/tpsr_pipeline_x4"
[ -f "$SRC/3_discriminator_search/front.json" ] || { echo "run bash bench/tpsr_x4.sh first ($SRC)"; exit 1; }

for adv in ${WEIGHTS[@]}; do
  W="$RUNS/tpsr_x4_adv$adv"
  mkdir -p "$W"
  for stage in 1_generator_search 2_psnr 3_discriminator_search; do
    [ -e "$W/$stage" ] || cp -r "$SRC/$stage" "$W/$stage"
  done
  $PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$W" \
    --config.baseline_discriminator="" --config.gan.gan.adversarial_weight="$adv"
done
