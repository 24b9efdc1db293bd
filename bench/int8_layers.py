"""Where post-training int8 loses: each op's own quantization error, per model.

    python bench/int8_layers.py [--models=zoo:x2,runs/tiny_x2/fsrcnn/model.keras,...] [--patches=50] [--split_prelu]

TensorFlow's quantization debugger runs each int8 op of the file
`tfsr-export --quantize=int8` writes (200 calibration patches from T91 +
BSD200, min/max ranges) on the dequantized int8 inputs and compares its
output with the float op's on the same inputs, over `--patches` training
patches.  Printed per op: its RMSE in units of its own quantization step
(`rmse / scale`: 1/sqrt(12) = 0.289 is rounding noise alone; well above
0.5 means clipped values or a range too wide) and x 255 (grey levels of
the [0, 1] image for image tensors, the same unit for hidden ones), so the
ops that add the most noise stand out.  Default models: bench/calibration.py's.
"""

import argparse
import csv
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from calibration import DATA, ROOT, default_models  # noqa: E402  (bench/calibration.py)
ROUNDING_NOISE = 12**-0.5  # RMSE of rounding to a grid, in steps of the grid


def op_errors(model, spec, representative, debug_patches, split_prelu=False):
    """`[(op, tensor, rmse / scale, rmse)]` for every int8 op of `model`'s min/max-calibrated file."""
    import tensorflow as tf

    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights
    from tfsr.export.tflite import configured_converter

    tfk = copy_weights(model, build_tfkeras_model(spec, native_groups=True, split_prelu=split_prelu),
                       spec if split_prelu else None)
    converter = configured_converter(tfk, "int8", representative)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=lambda: ([p] for p in debug_patches))
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    dump.seek(0)
    rows = []
    for r in csv.DictReader(dump):
        rmse, scale = float(r["mean_squared_error"]) ** 0.5, float(r["scale"])
        rows.append((r["op_name"], r["tensor_name"], rmse / scale if scale else 0.0, rmse))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="")
    parser.add_argument("--patches", type=int, default=50, help="training patches the debugger runs")
    parser.add_argument("--split_prelu", action="store_true", help="the file with PReLUs split into ReLUs")
    args = parser.parse_args()
    os.chdir(ROOT)
    models = args.models.split(",") if args.models else default_models()

    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.tflite import representative_patches
    from tfsr.pretrained import resolve
    from tfsr.runs import load_trained, spec_for_model

    for name in models:
        path = resolve(name) if name.startswith("zoo:") else name
        spec = spec_for_model(path)
        model = load_trained(path, spec)
        calibration = PatchDataset(f"{DATA}/train/T91,{DATA}/train/BSD200", spec.scale, 24, 16, seed=0)
        patches = list(representative_patches(calibration, 200))
        rows = op_errors(model, spec, patches, patches[: args.patches], args.split_prelu)
        print(f"\n{name} ({spec.name}): int8 min/max, each op's own error on {args.patches} training patches")
        print(f"  {'op':<16}{'tensor':<52}{'rmse/scale':>11}{'rmse x 255':>15}")
        for op, tensor, steps, rmse in rows:
            layer = tensor.split(";")[0].split("/")[1] if "/" in tensor else tensor
            print(f"  {op:<16}{layer[:50]:<52}{steps:>11.3f}{rmse * 255:>15.3f}")
        worst = max(rows, key=lambda r: r[2])
        print(f"  largest rmse/scale {worst[2]:.3f} ({worst[0]}; rounding alone {ROUNDING_NOISE:.3f}); "
              f"noisiest op {max(r[3] for r in rows) * 255:.3f} (x 255)")  # fmt: skip


if __name__ == "__main__":
    main()
