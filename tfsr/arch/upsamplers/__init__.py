"""Upsamplers; importing this package registers them."""

from tfsr.arch.upsamplers import deconv, resize_conv, subpixel  # noqa: F401
