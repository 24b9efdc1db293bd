"""FALSR's elastic space as a keras-tuner HyperModel.

Every gene of `FalsrSpace` is a keras-tuner hyperparameter, so any
keras-tuner oracle (ours, or the built-in RandomSearch used as a baseline)
can drive the search:

    num_cells                      Int in [min_cells, max_cells]
    cell{i}/block, /channels, /kernel, /residual, /repeats, /activation
    cell{i}/link{j}                Boolean, j < i: does cell i read node j
                                   (node j = stem for 0, cell j otherwise;
                                   the previous node is always read)
    up/link{j}                     Boolean: does the upsampler read node j

Cell and link hyperparameters are conditional on `num_cells`.  The mapping
is exact both ways: `spec_from_hp` and `values_from_spec`.
"""

import keras
import keras_tuner

from tfsr.arch import build_model
from tfsr.arch.spec import CellSpec
from tfsr.search.space import FalsrSpace


class FalsrHyperModel(keras_tuner.HyperModel):
    def __init__(self, space=None, learning_rate=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.space = space or FalsrSpace()
        self.learning_rate = learning_rate

    def spec_from_hp(self, hp):
        """Declares (or reads) the hyperparameters and returns the `ArchSpec`."""
        s = self.space
        n = hp.Int("num_cells", s.min_cells, s.max_cells)
        cells, up_links = [], []
        for i in range(s.max_cells):
            with hp.conditional_scope("num_cells", list(range(i + 1, s.max_cells + 1))):
                block = hp.Choice(f"cell{i}/block", list(s.blocks))
                channels = hp.Choice(f"cell{i}/channels", list(s.widths))
                kernel = hp.Choice(f"cell{i}/kernel", list(s.kernels))
                residual = hp.Boolean(f"cell{i}/residual")
                repeats = hp.Choice(f"cell{i}/repeats", list(s.repeats))
                activation = hp.Choice(f"cell{i}/activation", list(s.activations))
                links = [j for j in range(i) if hp.Boolean(f"cell{i}/link{j}")]
            if i < n:
                cells.append(CellSpec(block, channels, kernel, repeats, residual, sorted(links + [i]), activation))
        for j in range(s.max_cells):
            # Node j may feed the upsampler when it is not the last cell (j < n).
            with hp.conditional_scope("num_cells", list(range(j + 1, s.max_cells + 1))):
                if hp.Boolean(f"up/link{j}"):
                    up_links.append(j)
        return s.make_spec(cells, sorted(set(up_links) | {n}), name=s.NAME)

    def values_from_spec(self, spec):
        """The hyperparameter values that make `spec_from_hp` return `spec`."""
        n = len(spec.cells)
        values = {"num_cells": n}
        for i, cell in enumerate(spec.cells):
            values.update(
                {
                    f"cell{i}/block": cell.block,
                    f"cell{i}/channels": cell.channels,
                    f"cell{i}/kernel": cell.kernel,
                    f"cell{i}/residual": bool(cell.residual),
                    f"cell{i}/repeats": cell.repeats,
                    f"cell{i}/activation": cell.activation,
                }
            )
            inputs = set(spec.cell_inputs(i))
            for j in range(i):
                values[f"cell{i}/link{j}"] = j in inputs
        up = set(spec.upsampler_inputs())
        for j in range(n):
            values[f"up/link{j}"] = j in up
        return values

    def build(self, hp):
        model = build_model(self.spec_from_hp(hp))
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mae")
        return model
