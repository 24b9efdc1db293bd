"""tfsr-search: FALSR-style multi-objective constrained architecture search.

    tfsr-search --config=configs/falsr_x2.py --workdir=runs/falsr_x2

Runs keras-tuner with tfsr's ParetoOracle (NSGA-II + RL mutations) and
incomplete training as the evaluator.  Running the same command again
resumes: completed trials are kept, a trial killed mid-way is re-run.  At
the end it writes WORKDIR/pareto.json, WORKDIR/pareto.png and the top-k
specs in WORKDIR/top/ (ready for tfsr-train --arch=...).

Scale out with keras-tuner's chief/worker mode: start one process with
KERASTUNER_TUNER_ID=chief and any number with KERASTUNER_TUNER_ID=worker<N>,
all with the same KERASTUNER_ORACLE_IP / KERASTUNER_ORACLE_PORT, --config
and --workdir (a shared folder).
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", None, "Search directory (resumed when it exists).")
flags.mark_flag_as_required("workdir")
common.config_file_flag(default="search")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.load_config()
    if "search" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename} is not a search config (no 'search' section)")
    from tfsr.search.run import run_search

    run_search(cfg, os.path.abspath(common.workdir(FLAGS.workdir)))


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
