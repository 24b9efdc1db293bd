"""Search of the plain (ECBSR/ABPN-style) space for tiny x2 models under a
mult-adds ceiling at 640x360 LR, in G: `:2.3` (ECBSR-M4C16's cost) or `:9.5`
(ECBSR-M4C32's); `:LO-HI` (e.g. `:1.7-2.3`) searches the band between a
floor and the ceiling, for the best net *at* that cost.

    tfsr-search --config=configs/tiny_x2_search.py:1.7-2.3 --workdir=runs/tiny_x2/search_1.7-2.3g

Each candidate is proxy-trained for 1,000 steps on the 614 training images
(Adam 2e-3 with cosine decay, as the full recipe decays; deterministic
patch stream and initialization, so a spec scores the same twice), twice
(two patch streams and initializations, `proxy.seeds`), and scored on Set5
by the mean; the search's top specs are then trained with
configs/tiny_x2.py's full budget (bench/tiny_x2.py keeps the best on Set5).
`bench/proxy_fidelity.py` measures how proxies rank six nets of
ECBSR-M4C16's cost against their full training: Spearman 0.83 for this
one, 0.66 for the 600-step constant-rate proxy used before 2026-12-02
(both put the best net first; six nets, one seed: weak evidence).

`:int8` is the space the int8-latency work profiles and searches
(bench/latency_predictor.py, bench/latency_search.py): ReLU as well as
PReLU (int8 PReLU is several times slower on CPUs, so a latency search
must be able to trade it away) and one proxy training per candidate, under
ECBSR-M4C16's 2.3G; the benches set their own ceilings and proxy length.
"""

from tfsr.config import TINY_TRAIN_DATA, search_config


def get_config(gmacs="2.3"):
    int8 = gmacs == "int8"
    min_gmacs, _, max_gmacs = ("2.3" if int8 else gmacs).rpartition("-")
    config = search_config()
    config.scale = 2
    config.train_data = TINY_TRAIN_DATA  # as configs/tiny_x2.py
    config.val_data = "$TFSR_DATA/val/Set5"
    # PReLU only: in this 1,000-step proxy, ReLU chains of width 8-12 die in
    # their first 100 steps (the last layer's units all at zero for good; 3 of
    # the first 8 trials of a relu+prelu search), wasting trials.  (He-scaled
    # kernels with a zero-initialized tail kept all of one such net's layers
    # alive, either alone did not; not the builder's default yet.)  The int8
    # latency searches keep ReLU.
    config.space.update({"kind": "plain", "blocks": ("conv", "ecb", "collapsible"), "activations": ("prelu",)})
    config.search.update(
        {"max_trials": 24, "population_size": 6, "max_mult_adds": float(max_gmacs) * 1e9,
         "min_mult_adds": float(min_gmacs or 0) * 1e9, "lr_size": "640x360"}
    )
    # Two seeds: one network's proxy score moved 0.2 dB with its initialization alone, the size of the
    # gaps it ranks.  With one, the 1.7-2.3G band search returned 14 x 4 collapsible with the long residual
    # (36.78 / 32.47 dB on Set5 / Set14 after the full recipe); with two (about 70 minutes on 2 cores), 16 x 4
    # collapsible without it (36.85 / 32.54), the best net of the band known (README, 2026-12-02).
    config.proxy.update({"steps": 1000, "batch_size": 16, "patch_size": 32, "learning_rate": 2e-3, "schedule": "cosine",
                         "seeds": 2})
    if int8:
        config.space.activations = ("relu", "prelu")
        config.proxy.seeds = 1
    return config
