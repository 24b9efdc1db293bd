"""`ArchSpec`: the one JSON-serializable description of a generator.

Every searcher produces an `ArchSpec`; the builder, the cost model, the
trainer and the exporters consume it.  A spec is plain data:

    {
      "name": "fsrcnn",
      "scale": 2,                      # 2, 3 or 4
      "channels": 1,                   # image channels: 1 (Y) or 3 (RGB)
      "stem": {"filters": 32, "kernel": 3, "activation": "relu"},
      "cells": [
        {"block": "conv",              # a registered block type
         "channels": 32, "kernel": 3,  # output channels, spatial kernel
         "repeats": 2,                 # the block is applied this many times
         "residual": true,             # add the cell input to its output
         "inputs": [0],                # 0 = stem, i = output of cell i
         "merge": "concat",            # or "sum" (TPSR's nodes): how inputs combine
         "activation": "relu"},
        ...
      ],
      "upsampler": {"type": "subpixel", "kernel": 3, "inputs": [2],
                    "global_skip": "none",   # or nearest | bilinear | anchor
                    "clip": false}           # clip the output to [0, 1]
    }

Cells and the upsampler take the channel-concatenation of their `inputs`
(the macro links), or with `"merge": "sum"` their element-wise sum (all
inputs then need the same width); by default a cell reads the previous cell
and the upsampler reads the last cell.  Which values a search explores (FALSR's
channels in {16, 32, 48, 64}, ...) is the search space's business; this
module only decides what can be built.
"""

import copy
import dataclasses
import json
import zlib
from typing import List, Optional

from tfsr.errors import UserError

ACTIVATIONS = ("relu", "prelu", "leaky_relu", "tanh", "linear")  # leaky_relu: slope 0.05 (RFDN, DLSR)
SCALES = (2, 3, 4)
GLOBAL_SKIPS = ("none", "nearest", "bilinear", "anchor")
MERGES = ("concat", "sum")  # how a cell's (or the upsampler's) inputs combine


class SpecError(UserError):
    """An `ArchSpec` that cannot be built; the message says which field."""


@dataclasses.dataclass
class CellSpec:
    block: str
    channels: int
    kernel: int = 3
    repeats: int = 1
    residual: bool = False
    inputs: Optional[List[int]] = None
    activation: str = "relu"
    options: dict = dataclasses.field(default_factory=dict)
    merge: str = "concat"  # concat | sum of the inputs

    def to_dict(self):
        d = dataclasses.asdict(self)
        for key, default in (("options", {}), ("merge", "concat")):  # newer fields, omitted at their defaults
            if d[key] == default:
                del d[key]
        return d


@dataclasses.dataclass
class StemSpec:
    filters: int = 32
    kernel: int = 3
    activation: str = "relu"
    # The stem's conv may be any block type that fits one conv (e.g. "ecb",
    # "collapsible": ECBSR and SESR re-parameterize their first layer too).
    block: str = "conv"
    options: dict = dataclasses.field(default_factory=dict)

    def as_cell(self):
        """The stem as the one-conv cell its block emits."""
        return CellSpec(self.block, self.filters, self.kernel, activation=self.activation, options=self.options)


@dataclasses.dataclass
class UpsamplerSpec:
    type: str = "subpixel"
    kernel: int = 3
    inputs: Optional[List[int]] = None
    # Add an interpolated copy of the LR input to the output, so the network
    # learns only the residual detail (trains much faster, costs no MACs).
    # "anchor" adds the input repeated scale^2 times before the sub-pixel
    # shuffle (ABPN): the same sum, friendlier to int8 (see upsamplers/subpixel.py).
    global_skip: str = "none"  # none | nearest | bilinear | anchor
    clip: bool = False  # clip the output to [0, 1] (int8 outputs waste no range)
    # The sub-pixel conv's block type (linear), like the stem's.
    block: str = "conv"
    options: dict = dataclasses.field(default_factory=dict)
    merge: str = "concat"  # concat | sum of the inputs


@dataclasses.dataclass
class ArchSpec:
    """A generator architecture. Build it with `tfsr.arch.build_model`."""

    scale: int
    cells: List[CellSpec]
    stem: StemSpec = dataclasses.field(default_factory=StemSpec)
    upsampler: UpsamplerSpec = dataclasses.field(default_factory=UpsamplerSpec)
    channels: int = 1
    name: str = "generator"

    # ---- (de)serialization -------------------------------------------------
    def to_dict(self):
        return {
            "name": self.name,
            "scale": self.scale,
            "channels": self.channels,
            "stem": _without_defaults(self.stem),
            "cells": [c.to_dict() for c in self.cells],
            "upsampler": _without_defaults(self.upsampler),
        }

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data):
        """Parses and validates a spec dict; raises `SpecError` naming the field."""
        if not isinstance(data, dict):
            raise SpecError(f"an architecture spec must be a JSON object, got {type(data).__name__}.")
        data = copy.deepcopy(data)
        unknown = set(data) - {"name", "scale", "channels", "stem", "cells", "upsampler"}
        if unknown:
            raise SpecError(f"unknown spec field(s): {sorted(unknown)}.")
        try:
            cells = [CellSpec(**c) for c in data.get("cells", [])]
            stem = StemSpec(**data.get("stem", {}))
            upsampler = UpsamplerSpec(**data.get("upsampler", {}))
        except TypeError as e:
            raise SpecError(f"bad spec field: {e}.") from None
        spec = cls(
            scale=data.get("scale"),
            cells=cells,
            stem=stem,
            upsampler=upsampler,
            channels=data.get("channels", 1),
            name=data.get("name", "generator"),
        )
        spec.validate()
        return spec

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpecError(f"not valid JSON: {e}.") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path):
        """Reads a spec from a JSON file; errors name the file."""
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise SpecError(f"cannot read architecture file {path}: {e.strerror}.") from None
        try:
            return cls.from_json(text)
        except SpecError as e:
            raise SpecError(f"{path}: {e}") from None

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.to_json(indent=2) + "\n")

    def fingerprint(self):
        """A stable 32-bit hash of the architecture: the name left out, and a
        macro link to the node just before (the default) hashed as no link,
        so the two spellings of one network hash alike.  The proxy seeds a
        candidate's initialization with it: with the link written out, the
        band search scored ECBSR-M4C16's `collapsible` net with a long
        residual 35.66 dB, written without it 35.88."""
        data = {k: v for k, v in self.to_dict().items() if k != "name"}
        for node, default in [*zip(data["cells"], range(len(self.cells))), (data["upsampler"], len(self.cells))]:
            if node.get("inputs") is not None and list(node["inputs"]) == [default]:
                node["inputs"] = None  # as to_dict writes an unlinked node: its hash as before
        return zlib.crc32(json.dumps(data, sort_keys=True).encode())

    # ---- resolved macro links ---------------------------------------------
    def cell_inputs(self, i):
        """The node indices feeding cell `i` (0-based cell index; 0 = stem)."""
        inputs = self.cells[i].inputs
        return list(inputs) if inputs else [i]

    def upsampler_inputs(self):
        inputs = self.upsampler.inputs
        return list(inputs) if inputs else [len(self.cells)]

    # ---- validation ---------------------------------------------------------
    def validate(self):
        """Raises `SpecError` with the offending field for an impossible spec."""
        from tfsr.arch import registry  # late: blocks import this module

        def positive_int(value, field):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"{field} must be a positive integer, got {value!r}.")

        if self.scale not in SCALES:
            raise SpecError(f"scale must be one of {SCALES}, got {self.scale!r}.")
        if self.channels not in (1, 3):
            raise SpecError(f"channels must be 1 (Y) or 3 (RGB), got {self.channels!r}.")
        positive_int(self.stem.filters, "stem.filters")
        positive_int(self.stem.kernel, "stem.kernel")
        if self.stem.activation not in ACTIVATIONS:
            raise SpecError(f"stem.activation must be one of {ACTIVATIONS}, got {self.stem.activation!r}.")
        self._validate_one_conv_block(self.stem.as_cell(), self.channels, "stem")
        for i, cell in enumerate(self.cells):
            where = f"cells[{i}]"
            block_cls = registry.BLOCKS.get(cell.block)
            if block_cls is None:
                raise SpecError(f"{where}.block: unknown block type {cell.block!r}; known: {sorted(registry.BLOCKS)}.")
            positive_int(cell.channels, f"{where}.channels")
            positive_int(cell.kernel, f"{where}.kernel")
            positive_int(cell.repeats, f"{where}.repeats")
            if not isinstance(cell.residual, bool):
                raise SpecError(f"{where}.residual must be true or false, got {cell.residual!r}.")
            if cell.activation not in ACTIVATIONS:
                raise SpecError(f"{where}.activation must be one of {ACTIVATIONS}, got {cell.activation!r}.")
            self._validate_inputs(cell.inputs, i + 1, f"{where}.inputs")
            in_channels = self._merged_channels(self.cell_inputs(i), cell.merge, where)
            problem = block_cls.check(cell, in_channels)
            if problem:
                raise SpecError(f"{where} ({cell.block}): {problem}")
        if self.upsampler.type not in registry.UPSAMPLERS:
            raise SpecError(
                f"upsampler.type: unknown upsampler {self.upsampler.type!r}; known: {sorted(registry.UPSAMPLERS)}."
            )
        positive_int(self.upsampler.kernel, "upsampler.kernel")
        self._validate_inputs(self.upsampler.inputs, len(self.cells) + 1, "upsampler.inputs")
        up_in = self._merged_channels(self.upsampler_inputs(), self.upsampler.merge, "upsampler")
        if self.upsampler.type == "subpixel":
            self._validate_one_conv_block(self.upsampler_cell(), up_in, "upsampler")
        elif self.upsampler.block != "conv" or self.upsampler.options:
            raise SpecError(f"upsampler.block: only the subpixel upsampler takes a block type, not {self.upsampler.type!r}.")
        if self.upsampler.global_skip not in GLOBAL_SKIPS:
            raise SpecError(
                f"upsampler.global_skip must be one of {GLOBAL_SKIPS}, got {self.upsampler.global_skip!r}."
            )
        if self.upsampler.global_skip == "anchor" and self.upsampler.type != "subpixel":
            raise SpecError("upsampler.global_skip 'anchor' needs the subpixel upsampler.")
        if not isinstance(self.upsampler.clip, bool):
            raise SpecError(f"upsampler.clip must be true or false, got {self.upsampler.clip!r}.")

    def _merged_channels(self, inputs, merge, where):
        """Channels of `inputs` combined by `merge`; `SpecError` if they cannot be."""
        if merge not in MERGES:
            raise SpecError(f"{where}.merge must be one of {MERGES}, got {merge!r}.")
        widths = [self.node_channels(j) for j in inputs]
        if merge == "concat":
            return sum(widths)
        if len(set(widths)) > 1:
            raise SpecError(f"{where}.merge 'sum' needs inputs of one width; nodes {inputs} have {widths} channels.")
        return widths[0]

    def upsampler_cell(self):
        """The sub-pixel upsampler's conv (to scale^2 * channels, linear) as a cell."""
        up = self.upsampler
        return CellSpec(up.block, self.channels * self.scale**2, up.kernel, activation="linear", options=up.options)

    @staticmethod
    def _validate_one_conv_block(cell, in_channels, where):
        from tfsr.arch import registry  # late: blocks import this module

        block_cls = registry.BLOCKS.get(cell.block)
        if block_cls is None or not (block_cls is registry.BLOCKS["conv"] or issubclass(block_cls, registry.ReparamBlock)):
            one_conv = sorted(n for n, b in registry.BLOCKS.items() if n == "conv" or issubclass(b, registry.ReparamBlock))
            raise SpecError(f"{where}.block must be a one-conv block type {one_conv}, got {cell.block!r}.")
        if not isinstance(cell.options, dict):
            raise SpecError(f"{where}.options must be an object, got {cell.options!r}.")
        problem = block_cls.check(cell, in_channels)
        if problem:
            raise SpecError(f"{where} ({cell.block}): {problem}")

    def _validate_inputs(self, inputs, limit, field):
        if inputs is None:
            return
        if not isinstance(inputs, list) or not inputs:
            raise SpecError(f"{field} must be a non-empty list of earlier node indices, got {inputs!r}.")
        for j in inputs:
            if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < limit:
                raise SpecError(f"{field}: {j!r} is not an earlier node (0 = stem .. {limit - 1}).")
        if len(set(inputs)) != len(inputs):
            raise SpecError(f"{field} lists a node twice: {inputs}.")

    def node_channels(self, index):
        """Channels of node `index` (0 = stem output, i = output of cell i)."""
        return self.stem.filters if index == 0 else self.cells[index - 1].channels


# Fields added after specs were first written: left out of the JSON while
# they hold their defaults, so older spec files and workdirs stay identical.
_OPTIONAL_DEFAULTS = {"block": "conv", "options": {}, "clip": False, "merge": "concat"}


def _without_defaults(part):
    return {k: v for k, v in dataclasses.asdict(part).items() if _OPTIONAL_DEFAULTS.get(k, object()) != v}


def as_spec(spec_or_dict):
    """Accepts an `ArchSpec` or its dict form."""
    if isinstance(spec_or_dict, ArchSpec):
        return spec_or_dict
    return ArchSpec.from_dict(spec_or_dict)
