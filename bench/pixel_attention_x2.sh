#!/usr/bin/env bash
# Does PAN's pixel attention buy more than its mult-adds spent on width?
# Three nets of ECBSR-M4C16's topology with collapsible blocks, trained with
# configs/tiny_x2.py's budget (10,000 steps x 16, 32px LR patches, seed 0):
#   plain_15x4  15 channels x 4 blocks                            2.02G
#   pa_15x4     the same, a pixel_attention cell after each block  2.23G
#   and the shipped tfsr/arch/searched/searched_2.3g.json (16 x 4, 2.29G).
# Mult-adds at 640x360 LR.  Prints Set5 / Set14 x2 Y-PSNR of each.
#
#     bash bench/pixel_attention_x2.sh [RUNS_DIR]      # resumable
source "$(dirname "$0")/shell_env.sh"
W=${1:-runs}/pixel_attention_x2
mkdir -p "$W"
# The two probe specs (TensorFlow's start-up notes go to specs.log).
$PY - "$W" 2>"$W/specs.log" <<'PYTHON'
import sys
from tfsr.arch import ArchSpec
base = ArchSpec.load("tfsr/arch/searched/searched_2.3g.json").to_dict()
for name, width, attention in (("plain_15x4", 15, False), ("pa_15x4", 15, True)):
    cells = []
    for _ in range(4):
        cells.append({"block": "collapsible", "channels": width, "inputs": [len(cells)], "activation": "prelu"})
        if attention:
            cells.append({"block": "pixel_attention", "channels": width, "inputs": [len(cells)]})
    spec = {**base, "name": name, "stem": {**base["stem"], "filters": width}, "cells": cells,
            "upsampler": {**base["upsampler"], "inputs": [len(cells)]}}
    ArchSpec.from_dict(spec).save(f"{sys.argv[1]}/{name}.json")
PYTHON
cp tfsr/arch/searched/searched_2.3g.json "$W/searched_16x4.json"
for net in plain_15x4 pa_15x4 searched_16x4; do
  [ -f "$W/$net/model.keras" ] || $PY tools/train.py --config=configs/tiny_x2.py --arch="$W/$net.json" \
      --workdir="$W/$net" > "$W/$net.log" 2>&1
done
for net in plain_15x4 pa_15x4 searched_16x4; do
  cost=$($PY tools/cost.py --arch="$W/$net.json" --lr_size=640x360 2>/dev/null | tail -1)
  psnr=$($PY tools/evaluate.py --model="$W/$net/model.keras" --scale=2 \
           --data="$TFSR_DATA/val/Set5/x2,$TFSR_DATA/val/Set14/x2" 2>/dev/null | awk '/^mean/ {printf " %s", $2}')
  echo "$net Set5/Set14:$psnr  $cost"
done
