"""tfsr-search-dlsr: DLSR's differentiable architecture search (one supernet, softmax-mixed ops).

    tfsr-search-dlsr --config=configs/dlsr_x2.py --workdir=runs/dlsr_x2
    tfsr-train --config=configs/tiny_x2.py --arch=runs/dlsr_x2/spec.json --workdir=runs/dlsr_x2/train

Trains the supernet's weights on --config's train_data and its architecture
weights on arch_data (disjoint images), with a cost term that is the
expected mult-adds of the derived network (differentiable in alpha).
Writes WORKDIR/spec.json, the derived architecture, and alpha.png /
links.png, the architecture weights as heat maps.  With
--config.dlsr.max_mult_adds=G the derived network fits under G mult-adds
(640x360 LR).  Running the same command again resumes from the last
finished round.
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", None, "Search directory (resumed when it exists).")
flags.mark_flag_as_required("workdir")
common.config_file_flag(default="dlsr")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.load_config()
    if "dlsr" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename} is not a DLSR config (no 'dlsr' section)")
    from tfsr.arch.blocks.distill import CANDIDATES
    from tfsr.search.dlsr_run import run_dlsr_search

    d = cfg.dlsr
    bad = [c for c in d.candidates if c not in CANDIDATES]
    if bad or not d.candidates:
        common.fail(f"config.dlsr.candidates: unknown or empty {bad or []}; known: {sorted(CANDIDATES)}")
    if d.nf < 2 or d.nf % 2 or d.blocks < 3 or d.steps < 1 or d.search_steps < 1 or d.phase_steps < 1:
        common.fail("config.dlsr: nf must be even, blocks >= 3, steps, search_steps and phase_steps positive")
    if d.activation not in ("relu", "prelu", "leaky_relu"):
        common.fail(f"config.dlsr.activation: {d.activation!r} is not one of relu, prelu, leaky_relu")
    if d.max_mult_adds < 0 or d.penalty_weight < 0:
        common.fail("config.dlsr: max_mult_adds and penalty_weight must be >= 0")
    run_dlsr_search(cfg, os.path.abspath(common.workdir(FLAGS.workdir)))


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
