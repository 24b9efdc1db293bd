"""Turning a GAN config into the pieces `GanTrainer` needs (shared by the CLIs)."""

import dataclasses
import os

from tfsr.errors import UserError


@dataclasses.dataclass
class GanInputs:
    generator_spec: object  # ArchSpec
    initial_generator: object  # keras.Model with the PSNR-trained weights
    train_data: object  # PatchDataset (RGB)
    val_pairs: list
    perceptual: object  # PerceptualLoss
    lpips: object  # LPIPS or None


def generator_spec_for(model_path, arch=None, scale=None):
    """The `ArchSpec` of a trained generator: `arch`, or the run's spec.json.

    `tfsr-train` writes `spec.json` beside `model.keras` (and the GAN
    trainer `generator_spec.json`), so a run folder's model needs no flag.
    """
    from tfsr.arch import ArchSpec, zoo

    if not model_path:
        raise UserError("--generator is required: the PSNR-trained generator (.keras)")
    if not os.path.exists(model_path):
        raise UserError(f"--generator: no such file: {model_path}")
    if arch:
        return zoo.resolve(arch, scale, channels=3)
    folder = os.path.dirname(os.path.abspath(model_path))
    for name in ("spec.json", "generator_spec.json", os.path.join("..", "spec.json")):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return ArchSpec.load(path)
    raise UserError(
        f"--generator={model_path}: no spec.json beside it; name its architecture with --arch=SPEC.json"
    )


def load_generator(model_path, spec):
    """Builds `spec` and copies the weights of the trained model at `model_path`."""
    import keras

    from tfsr.arch import (
        build_model,
        layers,  # noqa: F401  (registers custom layers)
    )

    try:
        trained = keras.models.load_model(model_path, compile=False)
    except (OSError, ValueError) as e:
        raise UserError(f"--generator: cannot load {model_path}: {e}") from None
    if spec.channels != 3:
        raise UserError(f"--generator: {model_path} is a {spec.channels}-channel model; perceptual training needs RGB")
    model = build_model(spec)
    try:
        model.set_weights(trained.get_weights())
    except ValueError as e:
        raise UserError(f"--generator: {model_path} does not match its spec {spec.name}: {e}") from None
    return model


def gan_inputs(cfg, generator_path, arch=None):
    """Loads data, the starting generator and the perceptual networks of `cfg`."""
    from tfsr import samples
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.perceptual import LPIPS, PerceptualLoss

    spec = generator_spec_for(generator_path, arch, cfg.scale)
    generator = load_generator(generator_path, spec)
    train = PatchDataset(
        cfg.train_data or samples.TRAIN_DIR,
        spec.scale,
        patch_size=cfg.train.patch_size,
        batch_size=cfg.train.batch_size,
        color="rgb",
        seed=cfg.train.seed,
    )
    val = load_eval_set(cfg.val_data or samples.VAL_DIR, spec.scale, limit=cfg.train.val_limit or None)
    perceptual = PerceptualLoss.from_config(cfg.gan.perceptual, cfg.gan.lpips_weights, cfg.gan.vgg19_weights)
    lpips = LPIPS.load(cfg.gan.lpips_weights, flag="--lpips_weights") if cfg.gan.lpips_weights else None
    return GanInputs(spec, generator, train, val, perceptual, lpips)
