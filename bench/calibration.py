"""What int8 loses, post-training by calibration method and after
quantization-aware fine-tuning, and what 16-bit activations keep: float vs
int8 (minmax, percentile, mse) vs int8 QAT vs int16x8 vs dynamic-range Set5 / Set14 PSNR
(Y, `scale`-pixel border) of trained models, and with --latency each file's
1-thread latency at 640x360 LR (ai-edge-litert; run it on an idle machine).

    python bench/calibration.py [--models=zoo:x2,runs/tiny_x2/espcn/model.keras,...] [--latency] [--out=runs/calibration]

Default models: the zoo's x2 entry and the x2 references and searched
models bench/tiny_x2.py trained (when runs/tiny_x2 has them).  Each file
is exported once (200 calibration patches of 24 LR pixels from T91 +
BSD200; QAT: 2,000 steps at 1e-4, cosine, on the same images; `tfsr-export`
settings, but for its patches of 96 HR pixels since 2026-12-07) and
kept in OUT; re-running measures only what is missing.  Prints a table;
writes OUT/results.json.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
# ("int8", "converter"): min/max ranges from the TFLite converter's own calibrator, which
# `tfsr-export --quantize=int8` used before it calibrated the fake-quant model itself.
# ("dynamic", "range"): int8 weights, each activation quantized to 8 bits per image as it runs (no calibration;
# tanh and the conv outputs stay float): what 8-bit activations cost with no fixed grid and no range to choose.
FORMS = [("int8", "converter"), ("int8", "minmax"), ("int8", "percentile"), ("int8", "mse"), ("int8_qat", "minmax"),
         ("int16x8", "minmax"), ("dynamic", "range"), ("int8", "float_tanh")]  # fmt: skip
# ("int8", "float_tanh"): the converter's min/max file with TANH denylisted (TensorFlow's selective
# quantization): TANH runs in float between a dequantize and a quantize.
TINY_X2 = ["espcn", "fsrcnn", "ecbsr", "sesr", "abpn", "searched_1.7-2.3g", "searched_9.5g"]
QAT_STEPS, QAT_LEARNING_RATE = 2000, 1e-4  # the tables' schedule (tfsr-export's default is 6,000 at 3e-5)


def save_results(results, path):
    """Writes `results` as JSON to `path` in one step (a killed run leaves the last complete file)."""
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)


def converter_int8_inputs(model, spec, train_data, samples=200):
    """(tf_keras model, calibration patches) for the converter's own int8
    calibration: `samples` patches of `train_data`, PReLUs split, grouped
    convs native (the layout `tfsr-export` writes)."""
    from tfsr.export import tflite
    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights

    tfk_model = copy_weights(model, build_tfkeras_model(spec, native_groups=True, split_prelu=True), spec)
    return tfk_model, tflite.representative_patches(train_data, samples)


def export_converter_int8(model, spec, train_data, path):
    """Writes the int8 file whose min/max ranges the TFLite converter's
    calibrator sets (`converter_int8_inputs`)."""
    from tfsr.export import tflite

    tfk_model, representative = converter_int8_inputs(model, spec, train_data)
    with open(path, "wb") as f:
        f.write(tflite.convert(tfk_model, "int8", representative))


def export_float_tanh_int8(model, spec, train_data, path):
    """Writes the converter's min/max int8 file (as `export_converter_int8`)
    with TANH kept in float by TensorFlow's quantization debugger
    (`denylisted_ops`), the selective quantization TensorFlow documents."""
    import tensorflow as tf

    from tfsr.export import tflite

    tfk_model, representative = converter_int8_inputs(model, spec, train_data)
    converter = tflite.configured_converter(tfk_model, "int8", representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=lambda: ([p] for p in representative[:8]),
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=["TANH"]))
    with open(path, "wb") as f:
        f.write(debugger.get_nondebug_quantized_model())


# The forms the converter calibrates itself, by their method name; the others are `tfsr-export`'s.
CONVERTER_EXPORTS = {"converter": export_converter_int8, "float_tanh": export_float_tanh_int8}


def default_models():
    """The zoo's x2 entry and the x2 models bench/tiny_x2.py trained (those runs/tiny_x2 has)."""
    return ["zoo:x2"] + [p for p in (f"runs/tiny_x2/{k}/model.keras" for k in TINY_X2) if os.path.exists(p)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="")
    parser.add_argument("--latency", action="store_true", help="also time every file (1 thread, 640x360)")
    parser.add_argument("--out", default="runs/calibration")
    parser.add_argument("--forms", default="", help="comma-separated forms to measure "
                        f"(default: all of {', '.join(f'{q}_{c}' for q, c in FORMS)})")
    args = parser.parse_args()
    known = {f"{q}_{c}": (q, c) for q, c in FORMS}
    names = args.forms.split(",") if args.forms else list(known)
    unknown = [f for f in names if f not in known]
    if unknown:
        parser.error(f"--forms: unknown {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = [known[f] for f in names]
    os.chdir(ROOT)
    models = args.models.split(",") if args.models else default_models()
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}

    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export
    from tfsr.inference import KerasUpscaler, TFLiteUpscaler
    from tfsr.latency import LR_SIZE, tflite_latency_ms
    from tfsr.pretrained import resolve
    from tfsr.runs import load_trained, spec_for_model

    train = f"{DATA}/train/T91,{DATA}/train/BSD200"
    for name in models:
        path = resolve(name) if name.startswith("zoo:") else name
        spec = spec_for_model(path)
        row = results.setdefault(name, {"name": name, "spec": spec.name})
        model = load_trained(path, spec)
        sets = {s: load_eval_set(f"{DATA}/val/{s}/x{spec.scale}", spec.scale) for s in ("Set5", "Set14")}
        calibration = PatchDataset(train, spec.scale, 24, 16, color="rgb" if spec.channels == 3 else "y", seed=0)
        key = name.replace(":", "_").replace("/", "_")
        forms = [("float", "none", None)] + [(f"{q}_{c}", q, c) for q, c in chosen]
        for form, quantize, method in forms:
            file = os.path.join(args.out, f"{key}_{form}.tflite")
            if form not in row:
                if quantize == "none":  # the Keras model's PSNR; its float file is only timed
                    upscaler = KerasUpscaler(model, scale=spec.scale)
                else:
                    if not os.path.exists(file) and method in CONVERTER_EXPORTS:
                        CONVERTER_EXPORTS[method](model, spec, calibration, file)
                    elif not os.path.exists(file):
                        export(model, spec, "tflite", file, quantize=quantize, train_data=calibration,
                               calibration=method, qat_steps=QAT_STEPS,
                               qat_learning_rate=QAT_LEARNING_RATE, log=lambda m: None)  # fmt: skip
                    upscaler = TFLiteUpscaler(file)
                row[form] = {s: evaluate(upscaler, pairs, spec.scale)["mean"]["psnr"] for s, pairs in sets.items()}
            if args.latency and "ms" not in row[form]:
                if not os.path.exists(file):
                    export(model, spec, "tflite", file, quantize=quantize, log=lambda m: None)
                # 16x8 files run 2-7 s each (no XNNPACK kernels): fewer runs.
                row[form]["ms"] = tflite_latency_ms(file, LR_SIZE, threads=1, runs=3 if "16x8" in form else 15)
            print(f"{name:<36}{form:<20}" + "".join(f"{row[form][s]:8.2f}" for s in sets)
                  + (f"{row[form]['ms']:10.1f} ms" if "ms" in row[form] else ""), flush=True)  # fmt: skip
            save_results(results, results_path)

    print("\nSet5 / Set14: float PSNR, then the drop from it (dB); 200 calibration patches from T91 + BSD200"
          + ("; [ms]: 1 thread, 640x360 LR" if args.latency else ""))  # fmt: skip
    print(f"{'model':<36}{'float':>14}" + "".join(f"{f'{q} {c}':>20}" for q, c in chosen))
    for name in models:
        row = results[name]
        line = f"{name:<36}{row['float']['Set5']:>7.2f}/{row['float']['Set14']:.2f}"
        for q, c in chosen:
            r = row[f"{q}_{c}"]
            line += f"{row['float']['Set5'] - r['Set5']:>12.3f}/{row['float']['Set14'] - r['Set14']:.3f}"
        print(line)
        if args.latency:
            ms = "".join(f"{row[f'{q}_{c}']['ms']:>20.1f}" for q, c in chosen)
            print(f"{'  [ms]':<36}{row['float']['ms']:>14.1f}" + ms)
    print(f"\nwritten: {results_path}")


if __name__ == "__main__":
    main()
