"""The pretrained zoo's recipe (bench/zoo.py trains every entry with it).

    tfsr-train --config=configs/zoo.py:x3 --workdir=runs/zoo/x3

One architecture for every entry, ARCH: the x2 band search's winner
(tfsr/arch/searched/searched_2.3g.json; a 16-channel 3x3 stem, four
16-channel `collapsible` blocks + PReLU, a 3x3 sub-pixel tail, the anchor
residual), the same body at every scale with only the tail's s^2 outputs
changed (10-12K params, deployed as plain 3x3 convs).  It replaced the
hand-made ABPN-like net at 20 channels (abpn_m4c20, four 3x3 conv + ReLU)
on 2026-12-07: trained with this recipe it scored +0.05 to +0.14 dB on
Set5 / Set14 at every scale at 65-67% of the mult-adds, and its int8 file
was no slower on the 2-core Intel Xeon host (55 vs 57 ms at x2; the
README's zoo section has the table).

The budget: configs/tiny_x2.py's recipe for 3x as many steps (30,000 of
batch 16, 32x32 LR patches, Adam 1e-3 cosine to 1e-5, EMA 0.999,
Charbonnier) on all 614 images of $TFSR_DATA/train (this project's
../shared/data).
"""

from tfsr.config import tiny_config

SCALES = {"x2": 2, "x3": 3, "x4": 4}
ARCH = "searched_2.3g"


def get_config(entry="x2"):
    if entry not in SCALES:
        raise ValueError(f"unknown zoo entry {entry!r}; the entries are {', '.join(SCALES)}")
    config = tiny_config(ARCH, scale=SCALES[entry], steps=30000)
    config.train.log_every = 2000
    return config
