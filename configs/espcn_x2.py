"""ESPCN x2 on the 291 images, as for the reference figures in the README.

    tfsr-train --config=configs/espcn_x2.py --workdir=runs/espcn_x2
"""

from tfsr.config import get_config as base_config


def get_config():
    config = base_config()
    config.arch = "espcn"
    config.scale = 2
    config.train_data = "../shared/data/train/T91,../shared/data/train/BSD200"
    config.val_data = "../shared/data/val/Set5"
    config.train.steps = 30000
    config.train.checkpoint_every = 2000
    config.train.log_every = 1000
    return config
