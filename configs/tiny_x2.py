"""Tiny x2 models, hand-made and searched, trained with one recipe and budget
(bench/tiny_x2.py runs them all and prints the comparison table).

    tfsr-train --config=configs/tiny_x2.py:ecbsr --workdir=runs/tiny_x2/ecbsr
    tfsr-train --config=configs/tiny_x2.py --arch=runs/tiny_x2/search_1.7-2.3g/top/1_trial_NN.json --workdir=...

The budget, the same for every row: 10,000 steps of batch 16, 32x32 LR
patches (64x64 HR), Adam 1e-3 with cosine decay to 1e-5, an exponential
moving average of the weights (0.999), Charbonnier loss, on all 614
training images in $TFSR_DATA/train (T91, BSD200, BSDS500test, CQ100,
Unsplash30; no benchmark image).  Validation on Set5 only monitors the run.
"""

from tfsr.config import tiny_config


def get_config(arch="ecbsr"):
    return tiny_config(arch, scale=2, steps=10000)
