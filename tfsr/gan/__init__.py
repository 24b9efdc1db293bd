"""TPSR's perceptual stage: discriminators, adversarial losses, GAN training."""

from tfsr.gan.discriminator import BUILTIN_DISCRIMINATORS, DiscriminatorSpec, build_discriminator, resolve_discriminator
from tfsr.gan.losses import ADVERSARIAL_LOSSES, adversarial_losses
from tfsr.gan.trainer import GanTrainer

__all__ = [
    "ADVERSARIAL_LOSSES",
    "BUILTIN_DISCRIMINATORS",
    "DiscriminatorSpec",
    "GanTrainer",
    "adversarial_losses",
    "build_discriminator",
    "resolve_discriminator",
]
