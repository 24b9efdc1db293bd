"""FALSR-style x2 search on the 291 images under a 6G mult-adds ceiling (480x480 LR).

    tfsr-search --config=configs/falsr_x2.py --workdir=runs/falsr_x2
"""

from tfsr.config import search_config


def get_config():
    config = search_config()
    config.scale = 2
    config.train_data = "$TFSR_DATA/train/T91,$TFSR_DATA/train/BSD200"
    config.val_data = "$TFSR_DATA/val/Set5"
    config.search.update({"max_trials": 40, "population_size": 10, "max_mult_adds": 6.0e9, "min_psnr": 0.0})
    config.proxy.update({"steps": 300})
    return config
