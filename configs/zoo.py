"""The pretrained zoo's recipe (bench/zoo.py trains every entry with it).

    tfsr-train --config=configs/zoo.py:x3 --workdir=runs/zoo/x3

One entry per scale: the ABPN-like plain net at 20 channels (a 3x3 stem,
four 3x3 conv + ReLU, a 3x3 sub-pixel tail, the anchor residual, a clipped
output; 15-18K params, so every .keras file stays well under 100 KB).  The
design comes from bench/tiny_x2.py's table: at 28 channels it was within
0.05 dB of the best int8 quality measured there with the fastest int8 file
of the models above FSRCNN's quality, because ReLU and the anchor keep the
int8 file quick and close to the float net (PReLU int8 files ran 2-5x
slower on this CPU).

The budget: configs/tiny_x2.py's recipe for 3x as many steps (30,000 of
batch 16, 32x32 LR patches, Adam 1e-3 cosine to 1e-5, EMA 0.999,
Charbonnier) on all 614 images of $TFSR_DATA/train (this project's
../shared/data).
"""

from tfsr.config import tiny_config

SCALES = {"x2": 2, "x3": 3, "x4": 4}


def get_config(entry="x2"):
    if entry not in SCALES:
        raise ValueError(f"unknown zoo entry {entry!r}; the entries are {', '.join(SCALES)}")
    config = tiny_config("abpn_m4c20", scale=SCALES[entry], steps=30000)
    config.train.log_every = 2000
    return config
