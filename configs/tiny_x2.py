"""Tiny x2 models, hand-made and searched, trained with one recipe and budget
(bench/tiny_x2.py runs them all and prints the comparison table).

    tfsr-train --config=configs/tiny_x2.py:ecbsr --workdir=runs/tiny_x2/ecbsr
    tfsr-train --config=configs/tiny_x2.py --arch=runs/tiny_x2/search_2.3g/top/1_trial_NN.json --workdir=...

The budget, the same for every row: 10,000 steps of batch 16, 32x32 LR
patches (64x64 HR), Adam 1e-3 with cosine decay to 1e-5, an exponential
moving average of the weights (0.999), Charbonnier loss, on all 614
training images in $TFSR_DATA/train (T91, BSD200, BSDS500test, CQ100,
Unsplash30; no benchmark image).  Validation on Set5 only monitors the run.
"""

from tfsr.config import get_config as base_config

DATA = "$TFSR_DATA"  # the data root: --data_root or the TFSR_DATA variable (tfsr-data)
TRAIN_SETS = ("T91", "BSD200", "BSDS500test", "CQ100", "Unsplash30")


def get_config(arch="ecbsr"):
    config = base_config()
    config.arch = arch
    config.scale = 2
    config.train_data = ",".join(f"{DATA}/train/{name}" for name in TRAIN_SETS)
    config.val_data = f"{DATA}/val/Set5"
    config.train.update(
        {
            "steps": 10000,
            "batch_size": 16,
            "patch_size": 32,
            "learning_rate": 1e-3,
            "schedule": "cosine",
            "final_lr_fraction": 0.01,
            "ema": 0.999,
            "loss": "charbonnier",
            "checkpoint_every": 2000,
            "log_every": 1000,
        }
    )
    return config
