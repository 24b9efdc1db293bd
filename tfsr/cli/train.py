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

flags.DEFINE_string("arch", None, "Built-in architecture (fsrcnn, espcn, ecbsr, ecbsr_plain, sesr, abpn, abpn_m4c20)"
                    " or an ArchSpec .json file.")
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
    from tfsr import samples
    from tfsr.arch import zoo
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.train import Trainer, TrainingDiverged

    workdir = common.workdir(cfg.workdir)
    if cfg.color not in ("y", "rgb"):
        common.fail(f"config.color must be 'y' or 'rgb', got {cfg.color!r}")
    if cfg.train.steps < 1 or cfg.train.checkpoint_every < 1 or cfg.train.batch_size < 1:
        common.fail("steps, checkpoint_every and batch_size must be positive")
    spec = zoo.resolve(cfg.arch, cfg.scale, channels=1 if cfg.color == "y" else 3)
    train = PatchDataset(
        cfg.train_data or samples.TRAIN_DIR,
        spec.scale,
        patch_size=cfg.train.patch_size,
        batch_size=cfg.train.batch_size,
        color="y" if spec.channels == 1 else "rgb",
        seed=cfg.train.seed,
    )
    val = load_eval_set(cfg.val_data or samples.VAL_DIR, spec.scale, limit=cfg.train.val_limit or None)
    print(f"training {spec.name} x{spec.scale} on {len(train)} images, validating on {len(val)}", flush=True)
    trainer = Trainer(spec, train, val, workdir, cfg.train)
    try:
        trainer.fit()
    except TrainingDiverged as e:
        common.fail(str(e))
    print(f"model saved to {trainer.model_path}")


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
