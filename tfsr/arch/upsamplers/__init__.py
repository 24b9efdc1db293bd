"""Upsamplers; importing this package registers them."""

from tfsr.arch.upsamplers import deconv, progressive_resize_conv, resize_conv, subpixel  # noqa: F401
