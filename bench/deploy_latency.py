"""Latency and quality of one generator in every deployable form.

    python bench/deploy_latency.py --model=runs/best6g_x2/model.keras \
        --train_data=../shared/data/train/T91,../shared/data/train/BSD200 \
        --sets=../shared/data/val/Set5,../shared/data/val/Set14 --out=runs/deploy_bench

Exports the model as TFLite fp32 / fp16 / dynamic / int8 PTQ / int8 QAT and
as a SavedModel (reusing files already in --out), then measures, for one LR
input of --size (480x480 by default) with 1 and 2 threads:

  * median latency of the Keras model (a tf.function call, TF intra-op
    threads set), the SavedModel's serving_default (uint8 RGB in and out,
    so it includes colour conversion and bicubic chroma) and each TFLite
    file (ai-edge-litert interpreter, XNNPACK);
  * PSNR (Y, scale border) on each --sets folder for each form;
  * achieved MAC/s = the spec's mult-adds at that size / median latency,
    next to this machine's measured fp32 matrix-multiply rate (numpy
    sgemm, same thread count) as a practical peak.

Each thread count runs in a fresh subprocess (TensorFlow fixes its thread
pools at start-up).
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfsr.config import parse_size  # noqa: E402

TFLITE = ("none", "float16", "dynamic", "int8", "int8_qat")


def _median_seconds(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def sgemm_macs_per_second(n=1024, runs=5):
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    return n**3 / _median_seconds(lambda: a @ b, 2, runs)


def latency_child(args):
    """Runs in a subprocess with `args.threads` threads; prints one JSON line."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from tfsr.arch import layers  # noqa: F401
    from tfsr.inference import TFLiteUpscaler

    h, w = parse_size(args.size, "--size")
    model = keras.models.load_model(args.model, compile=False)
    channels = int(model.inputs[0].shape[-1])
    x = np.random.default_rng(0).random((1, h, w, channels)).astype(np.float32)
    fn = tf.function(lambda t: model(t, training=False))
    result = {"keras": _median_seconds(lambda: fn(x).numpy(), args.warmup, args.runs)}
    saved = tf.saved_model.load(os.path.join(args.out, "savedmodel", "sr", "1"))
    rgb = tf.constant((np.random.default_rng(0).random((1, h, w, 3)) * 255).astype(np.uint8))
    serve = saved.signatures["serving_default"]
    result["savedmodel"] = _median_seconds(lambda: serve(images=rgb)["images"].numpy(), args.warmup, args.runs)
    for mode in TFLITE:
        upscaler = TFLiteUpscaler(os.path.join(args.out, f"{mode}.tflite"), num_threads=args.threads)
        result[f"tflite_{mode}"] = _median_seconds(lambda: upscaler._run(x), args.warmup, args.runs)
    result["sgemm_macs_per_s"] = sgemm_macs_per_second()
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--train_data", default=None)
    parser.add_argument("--sets", default="../shared/data/val/Set5,../shared/data/val/Set14")
    parser.add_argument("--size", default="480x480", help="LR WIDTHxHEIGHT")
    parser.add_argument("--qat_steps", type=int, default=2000)
    parser.add_argument("--qat_learning_rate", type=float, default=1e-5)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="runs/deploy_bench")
    args = parser.parse_args()
    if args.threads:
        return latency_child(args)

    from tfsr import samples
    from tfsr.arch import count
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export, size_on_disk
    from tfsr.inference import KerasUpscaler, load_upscaler
    from tfsr.runs import load_trained, spec_for_model

    os.makedirs(args.out, exist_ok=True)
    spec = spec_for_model(args.model)
    model = load_trained(args.model, spec)
    color = "y" if spec.channels == 1 else "rgb"
    train = PatchDataset(args.train_data or samples.TRAIN_DIR, spec.scale, 24, 16, color=color, seed=0)
    files = {"savedmodel": os.path.join(args.out, "savedmodel", "sr")}
    if not os.path.exists(os.path.join(files["savedmodel"], "1")):
        export(model, spec, "savedmodel", os.path.join(args.out, "savedmodel"), model_name="sr")
    for mode in TFLITE:
        files[f"tflite_{mode}"] = path = os.path.join(args.out, f"{mode}.tflite")
        if not os.path.exists(path):
            print(f"exporting {mode}", flush=True)
            export(model, spec, "tflite", path, quantize=mode, train_data=train, qat_steps=args.qat_steps,
                   qat_learning_rate=args.qat_learning_rate, log=lambda m: None)  # fmt: skip

    quality = {}
    sets = {os.path.basename(s.rstrip("/")): load_eval_set(s, spec.scale) for s in args.sets.split(",")}
    forms = {
        "keras": KerasUpscaler(model, scale=spec.scale),
        **{k: load_upscaler(v, spec.scale) for k, v in files.items()},
    }
    for name, upscaler in forms.items():
        quality[name] = {s: evaluate(upscaler, pairs, spec.scale)["mean"]["psnr"] for s, pairs in sets.items()}
    sizes = {k: size_on_disk(v) for k, v in files.items()}

    h, w = parse_size(args.size, "--size")
    mult_adds = count(spec, (h, w)).mult_adds
    latency = {}
    for threads in (1, 2):
        cmd = [sys.executable, __file__, f"--model={args.model}", f"--out={args.out}", f"--size={args.size}",
               f"--threads={threads}", f"--runs={args.runs}", f"--warmup={args.warmup}"]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        latency[threads] = json.loads(proc.stdout.strip().splitlines()[-1])

    set_names = list(sets)
    print(f"\n{spec.name} x{spec.scale}: {mult_adds / 1e9:.2f}G mult-adds for a {args.size} LR input")
    print(f"{'form':<20}{'size KiB':>9}" + "".join(f"{s + ' dB':>11}" for s in set_names)
          + "".join(f"{f'{t} thr ms':>11}{f'{t} thr GMAC/s':>15}" for t in (1, 2)))  # fmt: skip
    for name in forms:
        size = f"{sizes[name] / 1024:9.1f}" if name in sizes else f"{'-':>9}"
        row = f"{name:<20}{size}" + "".join(f"{quality[name][s]:11.3f}" for s in set_names)
        for t in (1, 2):
            sec = latency[t][name]
            row += f"{sec * 1e3:11.1f}{mult_adds / sec / 1e9:15.2f}"
        print(row)
    for t in (1, 2):
        print(f"numpy sgemm (fp32 matmul, {t} thread(s)): {latency[t]['sgemm_macs_per_s'] / 1e9:.1f} GMAC/s")
    print("savedmodel latency includes uint8 RGB in/out, colour conversion and bicubic chroma.")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"quality": quality, "latency": latency, "sizes": sizes, "mult_adds": mult_adds}, f, indent=1)


if __name__ == "__main__":
    main()
