"""How much int8 loses in the weights alone, and how much error-compensating rounding gets back.

    python bench/weight_rounding.py --model=runs/tiny_x2/fsrcnn/model.keras [--patches=64] [--equalize] [--out=ROUNDED.keras]

Every conv kernel is put on the grid the int8 file uses (per output channel
for a conv, per tensor for a transposed or depthwise conv, max |w| / 127)
while every activation stays float, so the Set5 / Set14 x2 drop printed is
the weights' share of int8's loss:

* nearest: each weight rounded to its nearest grid point (what the
  converter does);
* compensated: GPTQ's rounding, `tfsr.export.weight_rounding` (what
  `tfsr-export --quantize=int8` tries, as the "rounded" forms), on
  `--patches` LR training patches of `patch_side(scale)`.

`--equalize` equalizes the channels first (`tfsr.arch.equalize`).  `--out`
saves the compensated float model (copy its spec.json beside it).

`--int8=METHOD` then prints the Set5 / Set14 drop of the int8 file of each
float form `tfsr-export --quantize=int8` chooses among (as trained,
equalized, rounded, equalized then rounded), ranges by METHOD, on the 200
calibration patches tfsr-export takes (their first 64 measure the rounding;
`--patches` is ignored then): what the rounding adds to the file, form by form.
`--int16x8` prints the int16x8 file's drop with the converter's own weight
rounding and with the weights compensated first on its grid (every kernel
per output channel), as `tfsr-export --quantize=int16x8` now does.
"""

import argparse
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from calibration import DATA, ROOT  # noqa: E402  (bench/calibration.py)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--patches", type=int, default=None, help="LR training patches for H (default: tfsr-export's)")
    parser.add_argument("--equalize", action="store_true",
                        help="equalize activation channels first (tfsr.arch.equalize, as tfsr-export may), then round")
    parser.add_argument("--out", default=None, help="save the compensated float model here (.keras, a new file)")
    parser.add_argument("--int8", default=None, choices=("minmax", "percentile", "mse"),
                        help="also print each float form's int8 file drop, with these ranges")
    parser.add_argument("--int16x8", action="store_true",
                        help="also print the int16x8 file's drop with the weights rounded to nearest and compensated")
    args = parser.parse_args()
    os.chdir(ROOT)

    from tfsr.errors import UserError
    from tfsr.outputs import check_output_file

    if args.out:  # checked before the work, not after it
        try:
            check_output_file(args.out, "--out", inputs=(args.model,), extensions=(".keras",))
        except UserError as e:
            parser.error(str(e))

    from tfsr.arch.reparam import deploy
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import patch_side
    from tfsr.export.tflite import representative_patches
    from tfsr.export.weight_rounding import ROUNDING_PATCHES, round_to_nearest_in_place, rounded_model
    from tfsr.inference import KerasUpscaler
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(args.model)
    model = load_trained(args.model, spec)
    train = PatchDataset(f"{DATA}/train/T91,{DATA}/train/BSD200", spec.scale, patch_side(spec.scale), 16, seed=0)
    patches = list(representative_patches(train, args.patches or ROUNDING_PATCHES))
    if args.equalize:
        from tfsr.arch.equalize import equalize_model

        model = equalize_model(model, spec, patches)
    sets = [load_eval_set(f"{DATA}/val/{name}/x{spec.scale}", spec.scale) for name in ("Set5", "Set14")]

    def psnr():
        return np.array([evaluate(KerasUpscaler(model, spec.scale), pairs, spec.scale)["mean"]["psnr"] for pairs in sets])

    float_psnr = psnr()
    float_model = deploy(model, spec)
    model = round_to_nearest_in_place(deploy(float_model, spec))
    nearest = float_psnr - psnr()
    model = rounded_model(float_model, spec, patches, log=print)
    compensated = float_psnr - psnr()
    print(f"{args.model}: float Set5 / Set14 x{spec.scale} {float_psnr[0]:.3f} / {float_psnr[1]:.3f} dB; "
          f"int8 weights, float activations, drop: nearest {nearest[0]:.4f} / {nearest[1]:.4f}, "
          f"compensated {compensated[0]:.4f} / {compensated[1]:.4f}")  # fmt: skip
    if args.out:
        model.save(args.out)
    if args.int8:
        int8_forms(load_trained(args.model, spec), spec, train, sets, float_psnr, args.int8)
    if args.int16x8:
        int16x8_forms(load_trained(args.model, spec), spec, train, sets, float_psnr)


def file_psnr(data, sets, scale):
    """Set5 / Set14 Y PSNR of the TFLite bytes `data`."""
    import tempfile

    from tfsr.evaluation import evaluate
    from tfsr.inference import TFLiteUpscaler

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        with open(path, "wb") as f:
            f.write(data)
        return np.array([evaluate(TFLiteUpscaler(path), pairs, scale)["mean"]["psnr"] for pairs in sets])


def int16x8_forms(model, spec, train, sets, float_psnr):
    """The int16x8 file's Set5 / Set14 drop, weights to nearest (the converter) and compensated first."""
    from tfsr.export.tfkeras_model import build_tfkeras_model, copy_weights
    from tfsr.export.tflite import convert, representative_patches
    from tfsr.export.weight_rounding import rounded_model

    calibration = representative_patches(train, 200)
    print(f"| int16x8 file | Set5 / Set14 x{spec.scale} | drop |\n|---|---|---|")
    for name, source in (("weights to nearest", model),
                         ("weights compensated", rounded_model(model, spec, calibration, converter_grid=True))):
        tfk = copy_weights(source, build_tfkeras_model(spec, split_prelu=True), spec)
        psnr = file_psnr(convert(tfk, "int16x8", calibration), sets, spec.scale)
        drop = float_psnr - psnr
        print(f"| {name} | {psnr[0]:.2f} / {psnr[1]:.2f} | {drop[0]:.3f} / {drop[1]:.3f} |", flush=True)


def int8_forms(model, spec, train, sets, float_psnr, method):
    """The int8 file's Set5 / Set14 drop for each float form tfsr-export tries."""
    from tfsr.export.tflite import INT8_FORMS, calibrated_int8_model, convert, representative_patches

    calibration = representative_patches(train, 200)  # tfsr-export's default
    print(f"| int8 file, {method} ranges | Set5 / Set14 x{spec.scale} | drop |\n|---|---|---|")
    for name, (equalize, round_weights) in INT8_FORMS.items():
        fake_quant = calibrated_int8_model(model, spec, calibration, method, equalize=equalize,
                                           round_weights=round_weights)  # fmt: skip
        psnr = file_psnr(convert(fake_quant, "int8_qat", calibration), sets, spec.scale)
        drop = float_psnr - psnr
        print(f"| {name} | {psnr[0]:.2f} / {psnr[1]:.2f} | {drop[0]:.3f} / {drop[1]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
