r"""tfsr-train-gan: perceptual + adversarial fine-tuning of a PSNR-trained generator.

    tfsr-train-gan --config=configs/tpsr_x4.py \
        --generator=runs/tpsr_psnr_x4/model.keras --discriminator=srgan \
        --lpips_weights=../shared/weights/lpips_alex_v0.1.npz --workdir=runs/tpsr_gan_x4

`--discriminator` is a built-in (srgan, esrgan) or a discriminator spec
.json (e.g. one found by tfsr-search-discriminator).  Running the same
command again resumes from the last checkpoint pair.  The generator ends up
at WORKDIR/generator.keras; TensorBoard logs in WORKDIR/logs.
"""

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("generator", None, "The PSNR-trained generator (.keras); its spec.json is read from beside it.")
flags.DEFINE_string("arch", None, "The generator's ArchSpec .json, when no spec.json lies beside --generator.")
flags.DEFINE_string("discriminator", None, "Built-in discriminator (srgan, esrgan) or a spec .json.")
flags.DEFINE_string("lpips_weights", None, "LPIPS AlexNet weights (.npz): perceptual backbone and LPIPS scores.")
flags.DEFINE_string("train_data", None, "Training image folder(s), comma-separated (default: config).")
flags.DEFINE_string("val_data", None, "Validation folder (default: config).")
flags.DEFINE_integer("steps", None, "Training steps (overrides config.train.steps).")
flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and generator.keras.")
common.config_file_flag("gan")
FLAGS = flags.FLAGS


def main(argv):
    cfg = common.gan_config_from_flags()
    from tfsr.gan import resolve_discriminator
    from tfsr.gan.setup import gan_inputs, gan_trainer
    from tfsr.train import TrainingDiverged

    workdir = common.workdir(cfg.workdir)
    discriminator = resolve_discriminator(common.require(cfg.discriminator, "discriminator"))
    inputs = gan_inputs(cfg, common.require(cfg.generator, "generator"), FLAGS.arch)
    if inputs.lpips is None:
        print("note: no --lpips_weights: validation reports PSNR only, no LPIPS", flush=True)
    trainer = gan_trainer(cfg, inputs, discriminator, workdir)
    try:
        trainer.fit()
    except TrainingDiverged as e:
        common.fail(str(e))
    print(f"generator saved to {trainer.model_path}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
