"""Post-training int8 with channels as trained vs equalized (tfsr.arch.equalize):
Set5 / Set14 PSNR drop from the float model, and which one `tfsr-export
--quantize=int8` keeps (the higher PSNR on 12 whole training images).

    python bench/equalize.py [--models=runs/tiny_x2/fsrcnn/model.keras,zoo:x2,...]

Default models: the zoo's x2 entry and the x2 nets bench/tiny_x2.py trained
(those runs/tiny_x2 has).  200 calibration patches from T91 + BSD200, min/max
ranges, PReLUs split: tfsr-export's settings.  Prints a table.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data")
TINY_X2 = ["fsrcnn", "espcn", "ecbsr_plain", "ecbsr", "sesr", "abpn", "searched_1.7-2.3g", "searched_9.5g"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="")
    args = parser.parse_args()
    os.chdir(ROOT)
    sys.path.insert(0, ROOT)
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import RANGE_CHOICE_IMAGES, RANGE_CHOICE_SIDE
    from tfsr.export.tflite import best_calibrated_int8_model, calibrated_int8_model, convert
    from tfsr.export.tflite import representative_patches, training_images
    from tfsr.inference import KerasUpscaler, TFLiteUpscaler
    from tfsr.pretrained import resolve as resolve_zoo
    from tfsr.runs import load_trained, spec_for_model

    models = [m for m in args.models.split(",") if m] or ["zoo:x2"] + [
        p for p in (f"runs/tiny_x2/{k}/model.keras" for k in TINY_X2) if os.path.exists(p)
    ]
    train = ",".join(os.path.join(DATA, "train", name) for name in ("T91", "BSD200"))
    print("| model (float Set5 / Set14) | as trained | equalized | tfsr-export keeps |\n|---|---|---|---|")
    for name in models:
        path = resolve_zoo(name) if name.startswith("zoo:") else name
        spec = spec_for_model(path)
        model = load_trained(path, spec)
        data = PatchDataset(train, spec.scale, 24, 16, color="rgb" if spec.channels == 3 else "y", seed=0)
        calibration = representative_patches(data, 200)
        sets = {s: load_eval_set(os.path.join(DATA, "val", s, f"x{spec.scale}"), spec.scale) for s in ("Set5", "Set14")}
        float_psnr = {s: evaluate(KerasUpscaler(model, scale=spec.scale), p, spec.scale)["mean"]["psnr"]
                      for s, p in sets.items()}  # fmt: skip
        drops = {}
        for form, equalize in (("as trained", False), ("equalized", True)):
            out = os.path.join(ROOT, "runs", "equalize", f"{spec.name}_{'equalized' if equalize else 'trained'}.tflite")
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                f.write(convert(calibrated_int8_model(model, spec, calibration, equalize=equalize), "int8_qat", calibration))
            drops[form] = {s: float_psnr[s] - evaluate(TFLiteUpscaler(out), p, spec.scale)["mean"]["psnr"]
                           for s, p in sets.items()}  # fmt: skip
        pairs = training_images(data, RANGE_CHOICE_IMAGES, RANGE_CHOICE_SIDE)
        _, kept, _ = best_calibrated_int8_model(model, spec, calibration, pairs)
        cells = [" / ".join(f"{drops[f][s]:.3f}" for s in sets) for f in ("as trained", "equalized")]
        print(f"| {name} ({float_psnr['Set5']:.2f} / {float_psnr['Set14']:.2f}) | {cells[0]} | {cells[1]} | {kept} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
