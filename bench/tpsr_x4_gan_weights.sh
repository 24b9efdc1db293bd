#!/usr/bin/env bash
# The x4 pipeline's perceptual + adversarial stage again with other adversarial
# weights, against the same PSNR-trained generator and discriminator (stages
# 1-3 of a finished pipeline run, copied), the same 1,000 steps at 5e-5; each
# run is scored and exported by tfsr-tpsr as usual (its 5_evaluation/scores.json).
#
#     bash bench/tpsr_x4_gan_weights.sh [RUNS_DIR] [SOURCE_RUN] [ADV_WEIGHT ...]   # resumable
#
# SOURCE_RUN: tpsr_pipeline_x4 (bash bench/tpsr_x4.sh; the default) or
# tpsr_x4_large (bash bench/tpsr_x4_large.sh).  Default weights: adversarial
# 1e-2 and 2e-2 (the pipeline's is 5e-3, ESRGAN's); pixel 1e-2 and perceptual
# 1.0 as in the pipeline.  Runs go to RUNS_DIR/SOURCE_RUN_advW.  EXTRA (flags
# added to every run) and TAG (added to the run's name) vary something else,
# e.g. EXTRA="--config.train_data=$TFSR_DATA/train" TAG=_614 trains the GAN
# stage on all 614 training images instead of T91 + BSD200.
source "$(dirname "$0")/shell_env.sh"
RUNS=${1:-runs}
SOURCE=${2:-tpsr_pipeline_x4}
shift 2 || shift $#
WEIGHTS=("${@:-1e-2 2e-2}")
SRC="$RUNS/$SOURCE"
[ -f "$SRC/3_discriminator_search/front.json" ] || { echo "$SRC: no finished discriminator search"; exit 1; }
GIVEN=()  # a run made with --config.generator has no search to copy: give its spec again
[ -d "$SRC/1_generator_search" ] || GIVEN=(--config.generator="$SRC/2_psnr/spec.json")

for adv in ${WEIGHTS[@]}; do
  W="$RUNS/${SOURCE}_adv$adv${TAG:-}"
  mkdir -p "$W"
  for stage in 1_generator_search 2_psnr 3_discriminator_search; do
    [ ! -e "$SRC/$stage" ] || [ -e "$W/$stage" ] || cp -r "$SRC/$stage" "$W/$stage"
  done
  $PY tools/tpsr.py --config=configs/tpsr_x4.py:pipeline --workdir="$W" "${GIVEN[@]}" \
    --config.baseline_discriminator="" --config.gan.gan.adversarial_weight="$adv" ${EXTRA:-}
done
