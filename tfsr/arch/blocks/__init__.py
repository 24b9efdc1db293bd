"""Block types of the search space; importing this package registers them."""

from tfsr.arch.blocks import (  # noqa: F401
    collapsible,
    conv,
    dilated,
    distill,
    ecb,
    esa,
    group_conv,
    inverted_bottleneck,
    pixel_attention,
    sepconv,
)
