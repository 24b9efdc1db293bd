"""Training throughput vs input-pipeline throughput on this machine.

    python bench/throughput.py --data=../shared/data/train/T91,../shared/data/train/BSD200

Prints input-pipeline patches/s alone (which must be far above what training
consumes) and training steps/s / patches/s for the reference architectures.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from tfsr import samples  # noqa: E402
from tfsr.arch import build_model, zoo  # noqa: E402
from tfsr.data.pipeline import PatchDataset  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=samples.TRAIN_DIR)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--patch", type=int, default=24)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    data = PatchDataset(args.data, args.scale, args.patch, args.batch, seed=0)
    it = iter(data.dataset())
    for _ in range(20):
        next(it)
    t = time.perf_counter()
    n = 500
    for _ in range(n):
        next(it)
    rate = n * args.batch / (time.perf_counter() - t)
    print(f"input pipeline alone: {rate:,.0f} patches/s ({args.patch}x{args.patch} LR, x{args.scale}, {len(data)} images)")

    for spec in (zoo.fsrcnn(args.scale), zoo.espcn(args.scale)):
        model = build_model(spec)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
        ds = data.dataset()
        model.fit(ds, steps_per_epoch=20, epochs=1, verbose=0)  # trace/warm up
        t = time.perf_counter()
        model.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0)
        steps = args.steps / (time.perf_counter() - t)
        print(f"training {spec.name:7s}: {steps:6.1f} steps/s = {steps * args.batch:7,.0f} patches/s (batch {args.batch})")


if __name__ == "__main__":
    main()
