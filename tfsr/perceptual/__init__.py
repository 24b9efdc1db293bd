"""Perceptual networks: the LPIPS metric and the perceptual-loss backbones."""

from tfsr.perceptual.losses import PerceptualLoss
from tfsr.perceptual.lpips import LPIPS, alexnet_features, random_lpips_weights

__all__ = ["LPIPS", "PerceptualLoss", "alexnet_features", "random_lpips_weights"]
