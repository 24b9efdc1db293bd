"""Block types of the search space; importing this package registers them."""

from tfsr.arch.blocks import collapsible, conv, ecb, group_conv, inverted_bottleneck  # noqa: F401
