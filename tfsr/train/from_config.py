"""A `Trainer` from a training config (tfsr-train and the tfsr-tpsr pipeline)."""

from tfsr.errors import UserError


def trainer_from_config(cfg, spec, workdir, verbose=True):
    """The `Trainer` of `spec` with `cfg.train`'s recipe on `cfg`'s data.

    `cfg.train_data` / `cfg.val_data`: folders ("" = the bundled samples).
    Raises `UserError` for a recipe that cannot run.
    """
    from tfsr import samples
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.train.trainer import Trainer

    if cfg.train.steps < 1 or cfg.train.checkpoint_every < 1 or cfg.train.batch_size < 1:
        raise UserError("steps, checkpoint_every and batch_size must be positive")
    train = PatchDataset(
        cfg.train_data or samples.TRAIN_DIR,
        spec.scale,
        patch_size=cfg.train.patch_size,
        batch_size=cfg.train.batch_size,
        color="y" if spec.channels == 1 else "rgb",
        seed=cfg.train.seed,
    )
    val = load_eval_set(cfg.val_data or samples.VAL_DIR, spec.scale, limit=cfg.train.val_limit or None)
    if verbose:
        print(f"training {spec.name} x{spec.scale} on {len(train)} images, validating on {len(val)}", flush=True)
    return Trainer(spec, train, val, workdir, cfg.train, verbose=verbose)
