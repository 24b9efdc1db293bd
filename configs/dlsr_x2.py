"""DLSR's search for a tiny x2 network (its nf = 18 variant) on this
project's data: weight steps on T91 + BSD200, architecture steps on the
held-out BSDS500 test photos (no benchmark image), cost term per G
mult-adds at 640x360.

    tfsr-search-dlsr --config=configs/dlsr_x2.py --workdir=runs/dlsr_x2
"""

from tfsr.config import dlsr_config

DATA = "$TFSR_DATA"  # the data root: --data_root or the TFSR_DATA variable (tfsr-data)


def get_config():
    config = dlsr_config()
    config.scale = 2
    config.train_data = f"{DATA}/train/T91,{DATA}/train/BSD200"
    config.arch_data = f"{DATA}/train/BSDS500test"
    config.val_data = f"{DATA}/val/Set5"
    # Architecture Adam at 3e-3, ten times DLSR's: Adam moves a logit by about lr per step, and
    # at 3e-4 softmax(alpha) was still within 0.08-0.13 everywhere after 800 architecture steps.
    config.dlsr.update({"nf": 18, "blocks": 6, "search_steps": 2000, "warmup": 200, "phase_steps": 100,
                        "penalty_weight": 0.01, "arch_lr": 3e-3})  # fmt: skip
    return config
