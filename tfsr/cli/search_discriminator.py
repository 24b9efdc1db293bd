r"""tfsr-search-discriminator: TPSR's discriminator search for a fixed generator.

    tfsr-search-discriminator --config=configs/tpsr_x4.py:search \
        --generator=runs/tpsr_psnr_x4/model.keras --workdir=runs/dsearch_x4

Each trial fine-tunes the generator against a candidate discriminator for
config.train.steps steps and is scored by validation LPIPS (lower is
better) and PSNR; the oracle keeps the Pareto front of the two (NSGA-II).
Running the same command again resumes.  At the end: WORKDIR/front.json,
WORKDIR/front.png and the best specs in WORKDIR/top/, ready for
`tfsr-train-gan --discriminator=WORKDIR/top/1_trial_NN.json`.  Scales out
with keras-tuner's chief/worker environment variables, like tfsr-search.
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("generator", None, "The PSNR-trained generator (.keras); its spec.json is read from beside it.")
flags.DEFINE_string("arch", None, "The generator's ArchSpec .json, when no spec.json lies beside --generator.")
flags.DEFINE_string("lpips_weights", None, "LPIPS AlexNet weights (.npz): the search objective (required).")
flags.DEFINE_string("train_data", None, "Training image folder(s), comma-separated (default: config).")
flags.DEFINE_string("val_data", None, "Validation folder (default: config).")
flags.DEFINE_integer("steps", None, "GAN steps per trial (overrides config.train.steps).")
flags.DEFINE_integer("max_trials", None, "Number of trials (overrides config.search.max_trials).")
flags.DEFINE_string("workdir", None, "Search directory (resumed when it exists).")
common.config_file_flag("discriminator_search")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.gan_config_from_flags()
    if "search" not in cfg or "space" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename}: not a discriminator search config")
    if FLAGS.max_trials is not None:
        cfg.search.max_trials = FLAGS.max_trials
    from tfsr.gan.search import format_discriminator_front, run_discriminator_search
    from tfsr.gan.setup import gan_inputs

    workdir = os.path.abspath(common.workdir(cfg.workdir))
    if not cfg.gan.lpips_weights:
        common.fail("--lpips_weights is required: trials are scored by validation LPIPS")
    inputs = gan_inputs(cfg, common.require(cfg.generator, "generator"), FLAGS.arch)
    rows = run_discriminator_search(cfg, workdir, inputs)
    if rows is None:
        return
    print("\nPareto front (LPIPS down, PSNR up):")
    print(format_discriminator_front(rows) if rows else "  (empty: no trial completed)")
    print(f"\nfront plot: {os.path.join(workdir, 'front.png')}")
    print(f"top specs:  {os.path.join(workdir, 'top')}/ (tfsr-train-gan --discriminator=FILE ...)")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
