"""Upsamplers; importing this package registers them."""

from tfsr.arch.upsamplers import deconv, subpixel  # noqa: F401
