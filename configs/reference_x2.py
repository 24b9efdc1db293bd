"""The hand-made references trained x2 on the 291 images (the README's figures).

    tfsr-train --config=configs/reference_x2.py:fsrcnn --workdir=runs/fsrcnn_x2
    tfsr-train --config=configs/reference_x2.py:espcn --workdir=runs/espcn_x2
    tfsr-train --config=configs/reference_x2.py --arch=runs/falsr_x2/top/1_trial_07.json --workdir=...
"""

from tfsr.config import get_config as base_config


def get_config(arch="fsrcnn"):
    config = base_config()
    config.arch = arch
    config.scale = 2
    config.train_data = "$TFSR_DATA/train/T91,$TFSR_DATA/train/BSD200"
    config.val_data = "$TFSR_DATA/val/Set5"
    config.train.steps = 30000
    config.train.checkpoint_every = 2000
    config.train.log_every = 1000
    return config
