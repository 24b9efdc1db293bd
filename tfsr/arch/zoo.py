"""Hand-made reference architectures, expressed as `ArchSpec`s."""

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


REFERENCES = {"fsrcnn": fsrcnn, "espcn": espcn}


def resolve(arch, scale, channels=None):
    """A built-in name (`fsrcnn`, `espcn`) or a JSON file path -> `ArchSpec`.

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
    if not arch.endswith(".json"):
        raise UserError(f"--arch: {arch!r} is neither a built-in ({', '.join(REFERENCES)}) nor a .json spec file.")
    spec = ArchSpec.load(arch)
    if spec.scale != scale:
        raise UserError(f"--arch: {arch} is a x{spec.scale} spec but --scale={scale}.")
    return spec
