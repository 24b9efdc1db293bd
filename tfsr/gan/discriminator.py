"""Discriminator descriptions (JSON specs), the Keras builder, built-ins.

A discriminator is a stack of conv stages, each `conv -> [norm] -> LeakyReLU
(0.2)`, then global average pooling, an optional dense layer and one logit:

    {"name": "srgan", "norm": "batch", "dense_units": 512,
     "stages": [{"channels": 32, "kernel": 3, "stride": 1}, ...]}

`norm` is `none`, `batch` (not on the first stage, as in SRGAN) or
`spectral` (`keras.layers.SpectralNormalization` around every conv and
dense layer, the Keras-core successor of tensorflow-addons' wrapper).
Global pooling instead of SRGAN's flatten lets one discriminator judge
patches of any size; the spec, not the code, is what a search varies.
"""

import dataclasses
import json
import os
from typing import List

import keras

from tfsr.errors import UserError

NORMS = ("none", "batch", "spectral")


@dataclasses.dataclass
class StageSpec:
    channels: int
    kernel: int = 3
    stride: int = 1


@dataclasses.dataclass
class DiscriminatorSpec:
    stages: List[StageSpec]
    norm: str = "batch"
    dense_units: int = 0  # 0: pooled features go straight to the logit
    name: str = "discriminator"

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data, source="discriminator spec"):
        try:
            unknown = set(data) - {"stages", "norm", "dense_units", "name"}
            if unknown:
                raise TypeError(f"unknown fields {sorted(unknown)}")
            stages = [StageSpec(**s) for s in data["stages"]]
            spec = cls(
                stages, data.get("norm", "batch"), int(data.get("dense_units", 0)), data.get("name", "discriminator")
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise UserError(f"{source}: not a discriminator spec ({e})") from None
        spec.validate(source)
        return spec

    @classmethod
    def load(cls, path):
        try:
            with open(path) as f:
                data = json.load(f)
        except OSError as e:
            raise UserError(f"cannot read discriminator spec {path}: {e.strerror}") from None
        except json.JSONDecodeError as e:
            raise UserError(f"{path}: not JSON ({e})") from None
        return cls.from_dict(data, source=path)

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.to_json(indent=2) + "\n")

    def validate(self, source="discriminator spec"):
        if not self.stages:
            raise UserError(f"{source}: needs at least one stage")
        if self.norm not in NORMS:
            raise UserError(f"{source}: norm must be one of {NORMS}, got {self.norm!r}")
        for i, s in enumerate(self.stages):
            for field in ("channels", "kernel", "stride"):
                value = getattr(s, field)
                if not isinstance(value, int) or value < 1:
                    raise UserError(f"{source}: stages[{i}].{field} must be a positive integer, got {value!r}")
        if self.dense_units < 0:
            raise UserError(f"{source}: dense_units must be >= 0")


def _scaled(name, channels, kernels, strides, dense, norm="batch", width=0.5):
    stages = [StageSpec(max(8, int(c * width)), k, s) for c, k, s in zip(channels, kernels, strides)]
    return DiscriminatorSpec(stages, norm, int(dense * width), name)


# The hand-made references, at half width (the generators they judge are tiny).
BUILTIN_DISCRIMINATORS = {
    # SRGAN (Ledig et al. 2017): eight 3x3 convs, stride 2 every other one.
    "srgan": _scaled("srgan", [64, 64, 128, 128, 256, 256, 512, 512], [3] * 8, [1, 2] * 4, 1024),
    # ESRGAN's VGG-128 discriminator: 3x3/1 and 4x4/2 pairs, ten convs.
    "esrgan": _scaled("esrgan", [64, 64, 128, 128, 256, 256, 512, 512, 512, 512], [3, 4] * 5, [1, 2] * 5, 100),
}


def resolve_discriminator(value):
    """`--discriminator` value (built-in name or spec .json) -> `DiscriminatorSpec`."""
    if isinstance(value, DiscriminatorSpec):
        return value
    if value in BUILTIN_DISCRIMINATORS:
        return BUILTIN_DISCRIMINATORS[value]
    if str(value).endswith(".json"):
        if not os.path.exists(value):
            raise UserError(f"--discriminator: no such file: {value}")
        return DiscriminatorSpec.load(value)
    raise UserError(
        f"--discriminator={value!r}: expected a built-in ({', '.join(BUILTIN_DISCRIMINATORS)}) or a spec .json"
    )


def build_discriminator(spec, channels=3):
    """`DiscriminatorSpec` -> `keras.Model`: images `(n, h, w, channels)` -> logits `(n, 1)`."""
    spec = resolve_discriminator(spec)

    def wrap(layer):
        return keras.layers.SpectralNormalization(layer, name=f"sn_{layer.name}") if spec.norm == "spectral" else layer

    x = inputs = keras.Input((None, None, channels), name="image")
    for i, stage in enumerate(spec.stages):
        conv = keras.layers.Conv2D(stage.channels, stage.kernel, stage.stride, padding="same", name=f"stage{i}_conv")
        x = wrap(conv)(x)
        if spec.norm == "batch" and i > 0:
            x = keras.layers.BatchNormalization(name=f"stage{i}_bn")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"stage{i}_act")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    if spec.dense_units:
        x = wrap(keras.layers.Dense(spec.dense_units, name="dense"))(x)
        x = keras.layers.LeakyReLU(0.2, name="dense_act")(x)
    logits = wrap(keras.layers.Dense(1, name="logit"))(x)
    return keras.Model(inputs, logits, name=spec.name)
