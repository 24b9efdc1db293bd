r"""tfsr-train: train an architecture (built-in name or spec file) with its config's recipe.

    tfsr-train --arch=fsrcnn --scale=2 --train_data=DIR[,DIR] --val_data=DIR \
        --steps=20000 --workdir=runs/fsrcnn_x2

    tfsr-train --config=configs/tiny_x2.py:abpn --workdir=runs/abpn_x2

The recipe (loss L1 or Charbonnier, learning-rate schedule, weight EMA,
patch and batch size) comes from --config (tfsr/config.py by default;
override a field with --config.train.ema=0.999).  Running the same command
again with the same --workdir resumes from the last checkpoint, following a
changed --steps.  The trained model (deployed form, EMA weights) ends up at
WORKDIR/model.keras.
"""

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("arch", None, "Built-in architecture (fsrcnn, espcn, ecbsr, ecbsr_plain, sesr, sesr_m3, abpn, "
                    "abpn_m4c20; searched_2.3g, the x2 band search's winner, at any --scale) or an ArchSpec .json file.")
flags.DEFINE_integer("scale", None, "Upscaling factor: 2, 3 or 4.", lower_bound=2)
flags.DEFINE_string("train_data", None, "Training image folder(s), comma-separated (default: bundled samples).")
flags.DEFINE_string("val_data", None, "Validation folder (HR/LR pairs or HR images; default: bundled samples).")
flags.DEFINE_integer("steps", None, "Training steps (overrides config.train.steps).")
flags.DEFINE_string("workdir", None, "Directory for checkpoints, logs and model.keras.")
common.config_file_flag()
FLAGS = flags.FLAGS


def resolved_config():
    """The config with explicit flags applied on top."""
    cfg = common.load_config()
    for name in ("arch", "scale", "train_data", "val_data", "workdir"):
        value = getattr(FLAGS, name)
        if value is not None:
            cfg[name] = value
    if FLAGS.steps is not None:
        cfg.train.steps = FLAGS.steps
    return cfg


def main(argv):
    cfg = resolved_config()
    from tfsr.arch import zoo
    from tfsr.train import TrainingDiverged
    from tfsr.train.from_config import trainer_from_config

    workdir = common.workdir(cfg.workdir)
    if cfg.color not in ("y", "rgb"):
        common.fail(f"config.color must be 'y' or 'rgb', got {cfg.color!r}")
    spec = zoo.resolve(cfg.arch, cfg.scale, channels=1 if cfg.color == "y" else 3)
    trainer = trainer_from_config(cfg, spec, workdir)
    try:
        trainer.fit()
    except TrainingDiverged as e:
        common.fail(str(e))
    print(f"model saved to {trainer.model_path}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
