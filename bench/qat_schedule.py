"""What a longer or gentler QAT schedule buys: int8 QAT drop by (steps, learning rate).

    python bench/qat_schedule.py [--models=zoo:x2,runs/tiny_x2/searched_1.7-2.3g/model.keras] \
        [--schedules=2000@1e-4,6000@1e-4,6000@3e-5,15000@1e-4] [--out=runs/qat_schedule]

Each model is fine-tuned with `tfsr-export --quantize=int8_qat` settings
(L1, Adam with cosine decay from the given rate, batch 16 of 24-pixel LR
patches from T91 + BSD200, 200 calibration patches, the activation ranges
`deployable_qat_model` picks) for each schedule, and
its file's Set5 / Set14 x2 PSNR (Y, 2-pixel border) is compared with the
float model's.  Resumable: OUT/results.json keeps every finished row.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from calibration import DATA, ROOT, save_results  # noqa: E402  (bench/calibration.py)


def parse_schedules(text):
    """"2000@1e-4,6000@3e-5" -> [(2000, 1e-4), (6000, 3e-5)]."""
    return [(int(steps), float(rate)) for steps, rate in (item.split("@") for item in text.split(","))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="zoo:x2,runs/tiny_x2/searched_1.7-2.3g/model.keras")
    parser.add_argument("--schedules", default="2000@1e-4,6000@1e-4,6000@3e-5,15000@1e-4")
    parser.add_argument("--out", default="runs/qat_schedule")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}

    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export
    from tfsr.inference import KerasUpscaler, TFLiteUpscaler
    from tfsr.pretrained import resolve
    from tfsr.runs import load_trained, spec_for_model

    for name in args.models.split(","):
        path = resolve(name) if name.startswith("zoo:") else name
        spec = spec_for_model(path)
        model = load_trained(path, spec)
        sets = {s: load_eval_set(f"{DATA}/val/{s}/x{spec.scale}", spec.scale) for s in ("Set5", "Set14")}
        data = PatchDataset(f"{DATA}/train/T91,{DATA}/train/BSD200", spec.scale, 24, 16, seed=0)
        float_psnr = {s: evaluate(KerasUpscaler(model, scale=spec.scale), p, spec.scale)["mean"]["psnr"]
                      for s, p in sets.items()}  # fmt: skip
        for steps, rate in parse_schedules(args.schedules):
            key = f"{name}|{steps}@{rate:g}"
            if key not in results:
                file = os.path.join(args.out, f"{name.replace(':', '_').replace('/', '_')}_{steps}_{rate:g}.tflite")
                start = time.time()
                lines = []
                export(model, spec, "tflite", file, quantize="int8_qat", train_data=data, qat_steps=steps,
                       qat_learning_rate=rate, log=lines.append)  # fmt: skip
                psnr = {s: evaluate(TFLiteUpscaler(file), p, spec.scale)["mean"]["psnr"] for s, p in sets.items()}
                ranges = next((x for x in lines if x.startswith("activation ranges: ")), "")
                results[key] = {"drop": {s: float_psnr[s] - psnr[s] for s in sets}, "minutes": (time.time() - start) / 60,
                                "ranges": ranges}  # fmt: skip
                save_results(results, results_path)
            drop = results[key]["drop"]
            print(f"{name:<44}{steps:>7} steps at {rate:<8g}drop {drop['Set5']:.3f} / {drop['Set14']:.3f} dB", flush=True)
            if results[key].get("ranges"):
                print(f"    {results[key]['ranges']}", flush=True)


if __name__ == "__main__":
    main()
