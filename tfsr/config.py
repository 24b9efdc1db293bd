"""Default configuration of tfsr's tools (an ml_collections ConfigDict).

The tools load this file unless `--config=configs/other.py` is given; every
field can be overridden on the command line, `--config.train.steps=1000`.
User configs in `configs/` start from `get_config()` and change fields.
"""

import ml_collections


def train_config():
    """Settings of one training run (also the proxy training of a search)."""
    return ml_collections.ConfigDict(
        {
            "steps": 10000,
            "batch_size": 16,
            "patch_size": 24,  # LR patch side; HR crops are patch_size * scale
            "learning_rate": 1e-3,
            "schedule": "cosine",  # cosine | constant
            "final_lr_fraction": 0.01,  # cosine decays to this fraction
            "checkpoint_every": 500,  # steps; at most this much work is lost on a kill
            "log_every": 100,
            "val_limit": 0,  # validate on the first N images (0: all)
            "seed": 0,
        }
    )


def get_config():
    return ml_collections.ConfigDict(
        {
            "arch": "fsrcnn",  # built-in name or a spec .json file
            "scale": 2,
            "color": "y",  # channels of built-in archs: y | rgb
            "train_data": "",  # folder(s), comma-separated; "" = bundled samples
            "val_data": "",  # "" = bundled samples
            "workdir": "",
            "train": train_config(),
        }
    )
