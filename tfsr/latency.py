"""Measured latency of what ships: a spec's full-integer int8 TFLite file
(float32 input and output, as `tfsr-export --quantize=int8` writes it) run
by ai-edge-litert on this machine, for one LR input of a given size.

Mult-adds predict this poorly (PReLU, grouped convs and thread counts move
int8 latency by several times at equal mult-adds), so the search can
measure it instead: `search.objective="latency"` and
`search.max_latency_ms` use a `MeasuredLatency`.

The latency of an int8 file does not depend on the values of its weights,
so an untrained model of a spec (seeded, calibrated on random patches)
measures what the trained one will: a candidate is measured before it is
trained, and a ceiling rejects it before any training.
"""

import os
import tempfile

import numpy as np

LR_SIZE = (360, 640)  # height, width: the 640x360 LR input of the published tables


def tflite_latency_ms(path, lr_size=LR_SIZE, threads=1, runs=15, warmup=3):
    """Median wall time in ms of one LR input of `lr_size` through the
    TFLite file at `path` (ai-edge-litert, XNNPACK, `threads` threads), timed
    as `tfsr.device_timer` times files on other devices."""
    from tfsr.device_timer import median_ms
    from tfsr.quiet import muted_stderr

    with muted_stderr():  # XNNPACK announces itself on stderr at the first allocation
        return median_ms(path, tuple(lr_size), threads, runs, warmup)


def write_int8_file(spec, path, calibration=None, seed=0):
    """Writes the int8 TFLite file of `spec` with untrained (seeded) weights,
    calibrated on `calibration` (LR patches `(1, h, w, C)`; default: 16
    random 24x24 patches): the layout and kernels of the shipped file."""
    import keras

    from tfsr.arch import build_model
    from tfsr.export.tflite import int8_file_bytes

    keras.utils.set_random_seed(seed + spec.fingerprint() % 2**30)
    model = build_model(spec)
    if calibration is None:
        rng = np.random.default_rng(seed)
        calibration = [rng.random((1, 24, 24, spec.channels)).astype(np.float32) for _ in range(16)]
    with open(path, "wb") as f:
        f.write(int8_file_bytes(model, spec, calibration))
    return path


class MeasuredLatency:
    """`spec -> ms`: the int8 latency of `spec` on this machine for one LR
    input of `lr_size`, measured once per architecture and kept in `cache`
    (spec fingerprint -> ms; pass a saved one to resume without measuring
    again).

    Args:
        lr_size: `(height, width)` of the LR input.
        threads: interpreter threads (1: what a phone core gives a background task).
        runs: timed runs; the median is reported.
    """

    def __init__(self, lr_size=LR_SIZE, threads=1, runs=15, cache=None):
        self.lr_size, self.threads, self.runs = tuple(lr_size), int(threads), int(runs)
        self.cache = dict(cache or {})

    def __call__(self, spec):
        key = str(spec.fingerprint())
        if key not in self.cache:
            with tempfile.TemporaryDirectory() as folder:
                path = write_int8_file(spec, os.path.join(folder, "model_int8.tflite"))
                self.cache[key] = tflite_latency_ms(path, self.lr_size, self.threads, self.runs)
        return self.cache[key]
