"""Built-in architectures: hand-made references, expressed as `ArchSpec`s,
and the searched winners shipped with the package (`searched/*.json`)."""

import dataclasses
import functools
import os

from tfsr.arch.spec import ArchSpec, CellSpec, StemSpec, UpsamplerSpec
from tfsr.errors import UserError


def fsrcnn(scale=2, d=56, s=12, m=4, channels=1):
    """FSRCNN (Dong et al. 2016): feature extraction 5x5xd, shrink 1x1xs,
    m mapping layers 3x3xs, expand 1x1xd, 9x9 deconvolution; PReLU."""
    cells = [
        CellSpec("conv", s, kernel=1, activation="prelu"),
        CellSpec("conv", s, kernel=3, repeats=m, activation="prelu"),
        CellSpec("conv", d, kernel=1, activation="prelu"),
    ]
    return ArchSpec(
        scale=scale,
        cells=cells,
        stem=StemSpec(filters=d, kernel=5, activation="prelu"),
        upsampler=UpsamplerSpec(type="deconv", kernel=9),
        channels=channels,
        name="fsrcnn",
    )


def espcn(scale=2, channels=1):
    """ESPCN (Shi et al. 2016): 5x5x64, 3x3x32 (tanh), 3x3 sub-pixel conv."""
    return ArchSpec(
        scale=scale,
        cells=[CellSpec("conv", 32, kernel=3, activation="tanh")],
        stem=StemSpec(filters=64, kernel=5, activation="tanh"),
        upsampler=UpsamplerSpec(type="subpixel", kernel=3),
        channels=channels,
        name="espcn",
    )


def ecbsr(scale=2, m=4, c=16, channels=1, block="ecb"):
    """ECBSR-MmCc (Zhang et al. 2021): m + 2 edge-oriented blocks (stem, m
    3x3 PReLU blocks, a linear sub-pixel tail), the LR input added before
    the shuffle.  `block="conv"` is the same topology with plain convs: the
    deployed form of both is identical, only training differs."""
    return ArchSpec(
        scale=scale,
        cells=[CellSpec(block, c, kernel=3, repeats=m, activation="prelu")],
        stem=StemSpec(filters=c, kernel=3, activation="prelu", block=block),
        upsampler=UpsamplerSpec(type="subpixel", kernel=3, global_skip="anchor", block=block),
        channels=channels,
        name=f"ecbsr_m{m}c{c}" + ("" if block == "ecb" else f"_{block}"),
    )


def sesr(scale=2, m=5, f=16, p=256, channels=1):
    """SESR-Mm (Bhardwaj et al. 2022): collapsible linear blocks (k x k to
    p channels, 1x1 back): a 5x5 stem, m 3x3 blocks with short residuals and
    PReLU under one long residual, a 5x5 sub-pixel tail, the input added."""
    tail = channels * scale**2
    return ArchSpec(
        scale=scale,
        cells=[CellSpec("collapsible", f, kernel=3, repeats=m, residual=True, activation="prelu",
                        options={"expansion": p // f})],  # fmt: skip
        stem=StemSpec(filters=f, kernel=5, activation="prelu", block="collapsible", options={"expansion": p // f}),
        upsampler=UpsamplerSpec(type="subpixel", kernel=5, global_skip="anchor", block="collapsible",
                                options={"expansion": max(1, p // tail)}),  # fmt: skip
        channels=channels,
        name=f"sesr_m{m}",
    )


def abpn(scale=2, m=4, c=28, channels=1):
    """ABPN-like (Du et al. 2021): plain 3x3 convs with ReLU (int8-friendly),
    the anchor residual before the shuffle and a clipped output."""
    return ArchSpec(
        scale=scale,
        cells=[CellSpec("conv", c, kernel=3, repeats=m, activation="relu")],
        stem=StemSpec(filters=c, kernel=3, activation="relu"),
        upsampler=UpsamplerSpec(type="subpixel", kernel=3, global_skip="anchor", clip=True),
        channels=channels,
        name=f"abpn_m{m}c{c}",
    )


def ecbsr_plain(scale=2, m=4, c=16, channels=1):
    """ECBSR's topology with plain 3x3 convs (what an `ecbsr` deploys to)."""
    return ecbsr(scale, m, c, channels, block="conv")


REFERENCES = {
    "fsrcnn": fsrcnn,
    "espcn": espcn,
    "ecbsr": ecbsr,
    "ecbsr_plain": ecbsr_plain,
    "sesr": sesr,
    "sesr_m3": functools.partial(sesr, m=3),  # SESR's 2.05G member: under ECBSR-M4C16's cost
    "abpn": abpn,
    # The pretrained zoo's net (configs/zoo.py): ABPN's design at 20 channels,
    # so each trained file stays well under 100 KB.
    "abpn_m4c20": functools.partial(abpn, c=20),
}


# Searched winners, by file name (without .json).  A searched body serves every
# scale, as ECBSR's and ABPN's bodies do: only the tail's s² channels depend on
# the scale, so the caller's scale replaces the file's.
SEARCHED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "searched")
SEARCHED = tuple(sorted(f[: -len(".json")] for f in os.listdir(SEARCHED_DIR) if f.endswith(".json")))


def builtin_names():
    return (*REFERENCES, *SEARCHED)


def resolve(arch, scale, channels=None):
    """A built-in name (`REFERENCES`, `SEARCHED`) or a JSON file path -> `ArchSpec`.

    A file's own `scale` must match `scale`; `channels` overrides the
    built-ins' default of 1 (Y) when given.
    """
    if arch in REFERENCES:
        kwargs = {"scale": scale}
        if channels is not None:
            kwargs["channels"] = channels
        spec = REFERENCES[arch](**kwargs)
        spec.validate()
        return spec
    if arch in SEARCHED:
        spec = ArchSpec.load(os.path.join(SEARCHED_DIR, f"{arch}.json"))
        spec = dataclasses.replace(spec, scale=scale, channels=spec.channels if channels is None else channels)
        spec.validate()
        return spec
    if not arch.endswith(".json"):
        raise UserError(f"--arch: {arch!r} is neither a built-in ({', '.join(builtin_names())}) nor a .json spec file.")
    spec = ArchSpec.load(arch)
    if spec.scale != scale:
        raise UserError(f"--arch: {arch} is a x{spec.scale} spec but --scale={scale}.")
    return spec
