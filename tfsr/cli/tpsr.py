r"""tfsr-tpsr: TPSR end to end, one command.

    tfsr-tpsr --config=configs/tpsr_x4.py:pipeline --workdir=runs/tpsr_x4

Generator search (TPSR's x4 space, within TPSR-D2's params and mult-adds)
-> PSNR training of the best -> discriminator search for it -> perceptual
+ adversarial training (against the searched discriminator, and a baseline
one) -> PSNR / SSIM / LPIPS-alex / LPIPS-squeeze / grid / blockiness on the
evaluation sets -> an int8 TFLite file.  One line per stage; a final table;
WORKDIR/summary.json.  Run the same command again after a kill: finished
stages are skipped and the running one resumes.  Each stage has its own
tool too (tfsr-search, tfsr-train, tfsr-search-discriminator,
tfsr-train-gan, tfsr-evaluate, tfsr-export).  Without --config it runs a
minutes-long smoke test on the bundled images, given the weight files:
--config.lpips_weights=F.npz --config.vgg16_weights=F.npz.
--config.generator=SPEC.json trains that generator instead of searching one.
"""

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("workdir", None, "Pipeline directory (resumed when it exists).")
common.config_file_flag("tpsr")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.load_config()
    if "generator_search" not in cfg or "gan" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename} is not a tfsr-tpsr config (no 'generator_search' "
                    "and 'gan' sections); e.g. configs/tpsr_x4.py:pipeline")  # fmt: skip
    from tfsr.gan.pipeline import TpsrPipeline

    pipeline = TpsrPipeline(cfg, common.workdir(FLAGS.workdir), log=lambda line: print(line, flush=True))
    pipeline.run()
    print(f"\nsummary: {pipeline.path('summary.json')}; crops: {pipeline.path('5_evaluation', 'crops.png')}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
