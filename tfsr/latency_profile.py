"""Device profiles: a spec's int8 latency predicted without converting it.

A profile is a JSON file made by `tfsr-profile` on one device: the int8
latencies of a set of whole random models from a search space, measured
there (ai-edge-litert, the thread count and LR size it records), and the
per-op-kind coefficients fitted to them.  A prediction sums, over the
int8 op graph (`tfsr.arch.prelu_split.int8_graph`: what the int8 file
computes), each op's work (mult-adds for convolutions, output elements
for the rest) times its kind's coefficient, plus a constant:

    ms ~ c0 + sum_kinds  c_kind * work_kind(spec)        (c >= 0)

One kind is not arithmetic: every convolution also costs per output pixel,
whatever its channel counts (`conv_pixels`).  On narrow nets that term can
dominate: on a 2-core Intel Xeon (AVX-512 VNNI, ai-edge-litert 2.3), int8
files of 8-48 channels took about 8 ms per 3x3 conv at 640x360 almost
regardless of width (ReLU nets of 3 body layers at 0.48G and 6.7G: 46.5
and 45.6 ms); without the term a profile fitted there predicted 50 other
specs with Spearman 0.58 and a median error of 22%, with it 0.91 and 3.5%
(bench/latency_predictor.py, 2026-12-07).  On the 2-core AMD EPYC of the
earlier profiles, mult-adds dominated (0.98 and 7-9% without it).  The
same host ran convs reading more than `WIDE` channels (there: the split
PReLUs of 48-channel nets) about 2.5 times slower per mult-add than the
fit of narrower ones predicted, hence `conv_wide`; the space's `corners()`
are profiled so that the fit sees such nets at all.

The kinds separate what runs at different speeds per unit of work in an
int8 file (a k x k conv, a 1x1 conv, grouped and depthwise convs, PReLU,
element-wise ops, shuffles, resizes, the float<->int8 I/O), so a
PReLU-heavy spec is not priced like a ReLU one of equal mult-adds.  The
fit minimizes relative error (each model weighted by 1 / its latency).
"""

import dataclasses
import json
import math
import os

import numpy as np

from tfsr.arch.prelu_split import int8_graph

# The built-in designs every profile measures, before the space's corners and random members.
REFERENCES = ("espcn", "fsrcnn", "ecbsr_plain", "ecbsr", "abpn")

# Work features of an int8 op graph, in this order.
FEATURES = (
    "const",  # one per model: interpreter call overhead
    "conv_pixels",  # output pixels (M) of every conv, depthwise and transposed conv: per-layer overhead
    "conv_kxk",  # mult-adds (G) of dense k x k convs, k > 1, reading at most WIDE channels
    "conv_1x1",  # mult-adds (G) of dense 1x1 convs, reading at most WIDE channels
    "conv_wide",  # mult-adds (G) of dense convs reading more than WIDE channels
    "conv_grouped",  # mult-adds (G) of grouped convs
    "dwconv",  # mult-adds (G) of depthwise convs
    "deconv",  # mult-adds (G) of transposed convs (output grid)
    "prelu",  # output elements (M) of PReLU
    "act_other",  # output elements (M) of leaky_relu, tanh, sigmoid and unfused relu/clip
    "elementwise",  # output elements (M) of add and mul
    "concat",  # output elements (M) of concatenations
    "shuffle",  # output elements (M) of depth_to_space
    "resize",  # output elements (M) of upsample, resize_like and maxpool
    "io",  # elements (M) quantized at the input and dequantized at the output
)
PROFILE_VERSION = 3  # 2: features of the int8 graph (PReLUs split), as tfsr-export writes int8 files; 3: conv_pixels, conv_wide
# Input channels past which a dense conv is priced apart (`conv_wide`): int8 kernels work
# through input channels in blocks of 64 bytes (an AVX-512 register, an AMX tile row).
WIDE = 64
# Versions whose measurements are still valid (the same int8 files), refitted with today's FEATURES on load.
REFIT_VERSIONS = (2,)


def features(spec, lr_size):
    """The `FEATURES` vector of `spec`'s int8 graph (deployed, PReLUs split as the
    int8 file has them) for one LR input of `lr_size = (h, w)`."""
    graph = int8_graph(spec)
    f = dict.fromkeys(FEATURES, 0.0)
    f["const"] = 1.0
    consumers = {}
    for op in graph.ops:
        for i in op.inputs:
            consumers[i] = consumers.get(i, 0) + 1
    for op in graph.ops:
        h, w = (math.ceil(size * op.upscale) for size in lr_size)
        elements = h * w * op.channels / 1e6
        a = op.attrs
        if op.kind in ("conv", "dwconv", "deconv"):
            f["conv_pixels"] += h * w / 1e6
        if op.kind == "input":
            f["io"] += elements
        elif op.kind == "conv":
            in_channels = sum(graph[i].channels for i in op.inputs)
            macs = a["kernel"] ** 2 * in_channels // a["groups"] * a["filters"] * h * w / 1e9
            kind = "conv_grouped" if a["groups"] > 1 else "conv_wide" if in_channels > WIDE else \
                "conv_kxk" if a["kernel"] > 1 else "conv_1x1"
            f[kind] += macs
        elif op.kind == "dwconv":
            f["dwconv"] += a["kernel"] ** 2 * op.channels * h * w / 1e9
        elif op.kind == "deconv":
            f["deconv"] += a["kernel"] ** 2 * sum(graph[i].channels for i in op.inputs) * op.channels * h * w / 1e9
        elif op.kind == "act":
            source = graph[op.inputs[0]]
            fused = a["kind"] in ("relu", "clip") and source.kind in ("conv", "dwconv", "deconv", "add")
            if a["kind"] == "prelu":
                f["prelu"] += elements
            elif not (fused and consumers.get(source.name) == 1):  # TFLite fuses relu into its producer
                f["act_other"] += elements
        elif op.kind in ("add", "mul"):
            f["elementwise"] += elements
        elif op.kind == "concat":
            f["concat"] += elements
        elif op.kind == "depth_to_space":
            f["shuffle"] += elements
        elif op.kind in ("upsample", "resize_like", "maxpool"):
            f["resize"] += elements
    out = graph[graph.output]
    h, w = (math.ceil(size * out.upscale) for size in lr_size)
    f["io"] += h * w * out.channels / 1e6
    return np.array([f[name] for name in FEATURES])


def fit_nonnegative(x, y, weights):
    """Weighted least squares `x @ c ~ y` with `c >= 0`: solve on the free
    features, drop the most negative coefficient, repeat."""
    xw, yw = x * weights[:, None], y * weights
    free = list(range(x.shape[1]))
    while True:
        c = np.zeros(x.shape[1])
        c[free] = np.linalg.lstsq(xw[:, free], yw, rcond=None)[0]
        if (c[free] >= 0).all():
            return c
        free.remove(free[int(np.argmin(c[free]))])


def spearman(a, b):
    """Spearman rank correlation of two sequences (no tie correction)."""
    ra, rb = (np.argsort(np.argsort(np.asarray(v))) for v in (a, b))
    return float(np.corrcoef(ra, rb)[0, 1])


@dataclasses.dataclass
class LatencyProfile:
    """One device's measurements and the model fitted to them."""

    lr_size: tuple  # (height, width)
    threads: int
    device: dict  # machine, CPU, cores, runtime version
    models: list = dataclasses.field(default_factory=list)  # [{"name", "spec", "ms"}]; ms None: not measured yet
    coefficients: list = dataclasses.field(default_factory=list)  # one per FEATURES entry

    def measured(self):
        return [m for m in self.models if m["ms"] is not None]

    def refit(self):
        if not self.measured():
            raise ValueError("no measured models to fit")
        x = np.array([features(_spec(m["spec"]), self.lr_size) for m in self.measured()])
        y = np.array([m["ms"] for m in self.measured()])
        self.coefficients = fit_nonnegative(x, y, 1.0 / y).tolist()
        return self

    def predict(self, spec):
        """Predicted int8 latency (ms) of `spec` on the profiled device."""
        if not self.coefficients:
            raise ValueError("the profile has no fitted coefficients (no measured models)")
        return float(features(spec, self.lr_size) @ np.asarray(self.coefficients))

    def save(self, path):
        data = dataclasses.asdict(self)
        data.update(version=PROFILE_VERSION, features=list(FEATURES), lr_size=list(self.lr_size))
        with open(path + ".tmp", "w") as f:
            json.dump(data, f, indent=1)
        os.replace(path + ".tmp", path)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            data = json.load(f)
        version = data.get("version")
        current = version == PROFILE_VERSION and data.get("features") == list(FEATURES)
        if not current and version not in (*REFIT_VERSIONS, PROFILE_VERSION):
            raise ValueError(f"{path} is not a version-{PROFILE_VERSION} tfsr latency profile (one made before PReLUs were split in int8 files is stale: run tfsr-profile again)")
        profile = cls(tuple(data["lr_size"]), int(data["threads"]), data["device"], data["models"],
                      data["coefficients"])  # fmt: skip
        if not current and profile.measured():
            profile.refit()  # older features, same measurements
        return profile


def _spec(d):
    from tfsr.arch import ArchSpec

    return ArchSpec.from_dict(d)


class PredictedLatency:
    """`spec -> ms` from a `LatencyProfile`: the drop-in for
    `tfsr.latency.MeasuredLatency` (same `cache` and `threads`) that
    converts nothing."""

    def __init__(self, profile):
        self.profile, self.threads, self.cache = profile, profile.threads, {}

    def __call__(self, spec):
        key = str(spec.fingerprint())
        if key not in self.cache:
            self.cache[key] = self.profile.predict(spec)
        return self.cache[key]
