"""Turning a GAN config into the pieces `GanTrainer` needs (shared by the CLIs)."""

import dataclasses

from tfsr.errors import UserError
from tfsr.runs import load_trained, spec_for_model


@dataclasses.dataclass
class GanInputs:
    generator_spec: object  # ArchSpec
    initial_generator: object  # keras.Model with the PSNR-trained weights
    train_data: object  # PatchDataset (RGB)
    val_pairs: list
    perceptual: object  # PerceptualLoss
    lpips: object  # LPIPS (AlexNet) or None
    lpips_squeeze: object = None  # LPIPS (SqueezeNet) or None: a second opinion in validation

    def lpips_metrics(self):
        return [m for m in (self.lpips, self.lpips_squeeze) if m is not None]


def generator_spec_for(model_path, arch=None, scale=None):
    """The `ArchSpec` of the PSNR-trained generator (see `tfsr.runs`)."""
    return spec_for_model(model_path, arch, scale, flag="--generator")


def load_generator(model_path, spec):
    """The trained RGB generator, rebuilt from `spec` with its weights."""
    if spec.channels != 3:
        raise UserError(f"--generator: {model_path} is a {spec.channels}-channel model; perceptual training needs RGB")
    return load_trained(model_path, spec, flag="--generator")


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
    perceptual = PerceptualLoss.from_config(cfg.gan.perceptual, cfg.gan.lpips_weights, cfg.gan.vgg19_weights,
                                            cfg.gan.vgg16_weights, cfg.gan.get("perceptual_scales", (1,)))  # fmt: skip
    lpips = LPIPS.load(cfg.gan.lpips_weights, flag="--lpips_weights") if cfg.gan.lpips_weights else None
    squeeze = cfg.gan.get("lpips_squeeze_weights", "")
    squeeze = LPIPS.load(squeeze, flag="--config.gan.lpips_squeeze_weights") if squeeze else None
    if squeeze is not None and squeeze.backbone != "squeeze":
        raise UserError(f"--config.gan.lpips_squeeze_weights={cfg.gan.lpips_squeeze_weights}: not a SqueezeNet file")
    return GanInputs(spec, generator, train, val, perceptual, lpips, squeeze)


def gan_trainer(cfg, inputs, discriminator, workdir, verbose=True):
    """The `GanTrainer` of `inputs` (from `gan_inputs`) against `discriminator`
    (a built-in name, a spec .json or a `DiscriminatorSpec`)."""
    from tfsr.gan.discriminator import resolve_discriminator
    from tfsr.gan.trainer import GanTrainer

    discriminator = resolve_discriminator(discriminator)
    return GanTrainer(
        inputs.generator_spec,
        discriminator,
        inputs.train_data,
        inputs.val_pairs,
        workdir,
        cfg,
        inputs.perceptual,
        lpips=inputs.lpips_metrics(),
        initial_generator=inputs.initial_generator,
        verbose=verbose,
        name=f"{inputs.generator_spec.name} vs {discriminator.name}",
    )
