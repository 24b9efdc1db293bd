"""Times TFLite files on the device they run on: one file, nothing but
Python, numpy and ai-edge-litert needed (no TensorFlow, no tfsr), so it can
be copied to a phone (Termux) or a board and run there.

    python device_timer.py MODELS_DIR --lr_size=640x360 --threads=1 --out=times.json

Each `*.tflite` in MODELS_DIR (float32 input and output, as tfsr writes its
int8 files) is run on one LR input of --lr_size: a few warm-up runs, then
the median of --runs timed runs.  times.json records the device and the
runtime with the times, and is written after every file, so a killed run
resumes.  `tfsr-profile --out=PROFILE.json --times=times.json` fits the
profile from it.  `tfsr.latency` times files on this machine the same way.
"""

import argparse
import json
import os
import platform
import time

import numpy as np


def median_ms(path, lr_size=(360, 640), threads=1, runs=15, warmup=3):
    """Median wall time in ms of one `(1, h, w, C)` float32 input through the TFLite file at `path`."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    inp = interpreter.get_input_details()[0]
    channels = int(inp["shape_signature"][-1])
    interpreter.resize_tensor_input(inp["index"], [1, *lr_size, channels], strict=False)
    interpreter.allocate_tensors()
    x = np.random.default_rng(0).random((1, *lr_size, channels)).astype(np.float32)
    times = []
    for k in range(warmup + runs):
        start = time.perf_counter()
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        if k >= warmup:
            times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def device_info():
    """What a profile records about the machine it measures on."""
    import importlib.metadata

    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith(("model name", "Hardware", "Model"))), cpu)  # fmt: skip
    except OSError:
        pass
    return {"machine": platform.machine(), "system": platform.system(), "cpu": cpu, "cores": os.cpu_count(),
            "runtime": f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}"}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models_dir")
    parser.add_argument("--lr_size", default="640x360", help="WIDTHxHEIGHT")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", default="times.json")
    args = parser.parse_args()
    width, height = (int(v) for v in args.lr_size.lower().split("x"))
    record = {"device": device_info(), "lr_size": [height, width], "threads": args.threads, "times": {}}
    if os.path.exists(args.out):
        with open(args.out) as f:
            record["times"] = json.load(f)["times"]
    files = sorted(name for name in os.listdir(args.models_dir) if name.endswith(".tflite"))
    for k, name in enumerate(files, 1):
        if name not in record["times"]:
            record["times"][name] = median_ms(os.path.join(args.models_dir, name), (height, width), args.threads,
                                              args.runs)  # fmt: skip
            with open(args.out + ".tmp", "w") as f:
                json.dump(record, f, indent=1)
            os.replace(args.out + ".tmp", args.out)
        print(f"{k}/{len(files)} {name}: {record['times'][name]:.1f} ms", flush=True)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
