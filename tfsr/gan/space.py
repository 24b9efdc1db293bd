"""The discriminator search space and its keras-tuner HyperModel.

Genes: the number of stages; per stage its channels, kernel and stride;
the normalization (none / batch / spectral); the dense layer's width.

    num_stages                      Int in [min_stages, max_stages]
    stage{i}/channels, /kernel, /stride
                                    conditional on num_stages > i
    norm, dense_units

The mapping spec <-> hyperparameters is exact both ways, as for the
generator's `FalsrHyperModel`, so any keras-tuner oracle can drive it.
"""

import dataclasses
from typing import Tuple  # noqa: UP035

import keras_tuner

from tfsr.gan.discriminator import NORMS, DiscriminatorSpec, StageSpec, build_discriminator


@dataclasses.dataclass
class DiscriminatorSpace:
    min_stages: int = 2
    max_stages: int = 5
    channels: Tuple[int, ...] = (16, 32, 64, 128)  # noqa: UP006
    kernels: Tuple[int, ...] = (3, 5)  # noqa: UP006
    strides: Tuple[int, ...] = (1, 2)  # noqa: UP006
    norms: Tuple[str, ...] = NORMS  # noqa: UP006
    dense_units: Tuple[int, ...] = (0, 64, 256)  # noqa: UP006

    def __post_init__(self):
        if not 1 <= self.min_stages <= self.max_stages:
            raise ValueError(f"need 1 <= min_stages <= max_stages, got {self.min_stages}, {self.max_stages}")
        bad = set(self.norms) - set(NORMS)
        if bad:
            raise ValueError(f"unknown norms {sorted(bad)}; choose from {NORMS}")

    def random_stage(self, rng):
        return StageSpec(int(rng.choice(self.channels)), int(rng.choice(self.kernels)), int(rng.choice(self.strides)))

    def sample(self, rng):
        n = int(rng.integers(self.min_stages, self.max_stages + 1))
        return DiscriminatorSpec(
            [self.random_stage(rng) for _ in range(n)],
            str(rng.choice(self.norms)),
            int(rng.choice(self.dense_units)),
            "searched_discriminator",
        )

    def crossover(self, a, b, rng):
        """Uniform crossover: each stage (and each global gene) from either parent."""
        n = len(a.stages) if rng.random() < 0.5 else len(b.stages)
        stages = []
        for i in range(n):
            options = [p.stages[i] for p in (a, b) if i < len(p.stages)]
            stages.append(dataclasses.replace(options[int(rng.integers(len(options)))]))
        pick = lambda x, y: x if rng.random() < 0.5 else y  # noqa: E731
        return DiscriminatorSpec(stages, pick(a.norm, b.norm), pick(a.dense_units, b.dense_units), a.name)

    def mutate(self, spec, rng):
        """One random change: a stage gene, a stage added/removed, norm or dense width."""
        spec = DiscriminatorSpec.from_dict(spec.to_dict())
        moves = ["stage", "norm", "dense"]
        if len(spec.stages) < self.max_stages:
            moves.append("add")
        if len(spec.stages) > self.min_stages:
            moves.append("remove")
        move = moves[int(rng.integers(len(moves)))]
        if move == "stage":
            stage = spec.stages[int(rng.integers(len(spec.stages)))]
            gene = ["channels", "kernel", "stride"][int(rng.integers(3))]
            choices = {"channels": self.channels, "kernel": self.kernels, "stride": self.strides}[gene]
            setattr(stage, gene, int(rng.choice(choices)))
        elif move == "norm":
            spec.norm = str(rng.choice(self.norms))
        elif move == "dense":
            spec.dense_units = int(rng.choice(self.dense_units))
        elif move == "add":
            spec.stages.insert(int(rng.integers(len(spec.stages) + 1)), self.random_stage(rng))
        else:
            spec.stages.pop(int(rng.integers(len(spec.stages))))
        return spec


class DiscriminatorHyperModel(keras_tuner.HyperModel):
    def __init__(self, space=None, channels=3, **kwargs):
        super().__init__(**kwargs)
        self.space = space or DiscriminatorSpace()
        self.channels = channels

    def spec_from_hp(self, hp):
        """Declares (or reads) the hyperparameters and returns the `DiscriminatorSpec`."""
        s = self.space
        n = hp.Int("num_stages", s.min_stages, s.max_stages)
        stages = []
        for i in range(s.max_stages):
            with hp.conditional_scope("num_stages", list(range(i + 1, s.max_stages + 1))):
                channels = hp.Choice(f"stage{i}/channels", list(s.channels))
                kernel = hp.Choice(f"stage{i}/kernel", list(s.kernels))
                stride = hp.Choice(f"stage{i}/stride", list(s.strides))
            if i < n:
                stages.append(StageSpec(channels, kernel, stride))
        norm = hp.Choice("norm", list(s.norms))
        dense = hp.Choice("dense_units", list(s.dense_units))
        return DiscriminatorSpec(stages, norm, dense, "searched_discriminator")

    def values_from_spec(self, spec):
        values = {"num_stages": len(spec.stages), "norm": spec.norm, "dense_units": spec.dense_units}
        for i, stage in enumerate(spec.stages):
            values.update(
                {
                    f"stage{i}/channels": stage.channels,
                    f"stage{i}/kernel": stage.kernel,
                    f"stage{i}/stride": stage.stride,
                }
            )
        return values

    def build(self, hp):
        return build_discriminator(self.spec_from_hp(hp), channels=self.channels)
