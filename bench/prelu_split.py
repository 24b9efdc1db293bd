"""PReLU nets in int8 with their PReLUs split into ReLUs (`tfsr.arch.prelu_split`)
against as trained: Set5 / Set14 x2 PSNR (Y, 2-pixel border) of the int8
files (post-training min/max and percentile, and QAT), their 1-thread
latency at 640x360 LR (ai-edge-litert; run it on an idle machine) and the
mult-adds each form computes.

    python bench/prelu_split.py [--models=runs/tiny_x2/searched_1.7-2.3g/model.keras,...] [--latency] [--out=runs/prelu_split]

Default models: the PReLU nets bench/tiny_x2.py trained (FSRCNN, ECBSR-M4C16,
SESR-M5, the searched <= 2.3G and <= 9.5G), those runs/tiny_x2 has.  The
export settings are bench/calibration.py's (200 calibration patches from
T91 + BSD200; QAT 2,000 steps at 1e-4), so the unsplit rows repeat its
table.  Each file is kept in OUT; re-running measures only what is missing.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from calibration import DATA, QAT_LEARNING_RATE, QAT_STEPS, ROOT, save_results  # noqa: E402

MODELS = ["fsrcnn", "ecbsr", "sesr", "searched_1.7-2.3g", "searched_9.5g"]
FORMS = [("int8", "minmax"), ("int8", "percentile"), ("int8_qat", "minmax")]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="")
    parser.add_argument("--forms", default=",".join(f"{q}_{c}" for q, c in FORMS), help="of " + ", ".join(f"{q}_{c}" for q, c in FORMS))
    parser.add_argument("--latency", action="store_true", help="also time every file (1 thread, 640x360)")
    parser.add_argument("--out", default="runs/prelu_split")
    args = parser.parse_args()
    os.chdir(ROOT)
    models = args.models.split(",") if args.models else [
        p for p in (f"runs/tiny_x2/{k}/model.keras" for k in MODELS) if os.path.exists(p)]
    forms = [(q, c) for q, c in FORMS if f"{q}_{c}" in args.forms.split(",")]
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}

    from tfsr.arch.cost import count, count_graph
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export
    from tfsr.arch.prelu_split import int8_graph
    from tfsr.inference import KerasUpscaler, TFLiteUpscaler
    from tfsr.latency import LR_SIZE, tflite_latency_ms
    from tfsr.runs import load_trained, spec_for_model

    train = f"{DATA}/train/T91,{DATA}/train/BSD200"
    for name in models:
        spec = spec_for_model(name)
        row = results.setdefault(name, {"name": name, "spec": spec.name})
        row["mult_adds"] = {"keep": count(spec, LR_SIZE).mult_adds, "split": count_graph(int8_graph(spec), LR_SIZE).mult_adds}
        model = load_trained(name, spec)
        sets = {s: load_eval_set(f"{DATA}/val/{s}/x{spec.scale}", spec.scale) for s in ("Set5", "Set14")}
        key = name.replace("/", "_")
        if "float" not in row:
            row["float"] = {s: evaluate(KerasUpscaler(model, scale=spec.scale), pairs, spec.scale)["mean"]["psnr"]
                            for s, pairs in sets.items()}  # fmt: skip
        for quantize, method in forms:
            for prelu in ("keep", "split"):
                form = f"{quantize}_{method}_{prelu}"
                file = os.path.join(args.out, f"{key}_{form}.tflite")
                if form not in row:
                    if not os.path.exists(file):
                        calibration = PatchDataset(train, spec.scale, 24, 16, seed=0)
                        export(model, spec, "tflite", file, quantize=quantize, train_data=calibration,
                               calibration=method, qat_steps=QAT_STEPS, qat_learning_rate=QAT_LEARNING_RATE,
                               split_prelu=prelu == "split", log=lambda m: None)  # fmt: skip
                    upscaler = TFLiteUpscaler(file)
                    row[form] = {s: evaluate(upscaler, pairs, spec.scale)["mean"]["psnr"] for s, pairs in sets.items()}
                if args.latency and "ms" not in row[form]:
                    row[form]["ms"] = tflite_latency_ms(file, LR_SIZE, threads=1, runs=15)
                drop = [row["float"][s] - row[form][s] for s in sets]
                print(f"{name:<40}{form:<28} drop {drop[0]:.3f} / {drop[1]:.3f}"
                      + (f"  {row[form]['ms']:.1f} ms" if "ms" in row[form] else ""), flush=True)  # fmt: skip
                save_results(results, results_path)

    print("\nSet5 / Set14 x2: drop from the float model (dB); mult-adds at 640x360 (G)"
          + ("; ms: 1 thread, 640x360 LR" if args.latency else ""))  # fmt: skip
    for name in models:
        row = results[name]
        print(f"{name}  float {row['float']['Set5']:.2f} / {row['float']['Set14']:.2f}, "
              f"{row['mult_adds']['keep'] / 1e9:.2f}G as trained, {row['mult_adds']['split'] / 1e9:.2f}G split")  # fmt: skip
        for quantize, method in forms:
            cells = []
            for prelu in ("keep", "split"):
                r = row.get(f"{quantize}_{method}_{prelu}")
                if r:
                    cells.append(f"{prelu} {row['float']['Set5'] - r['Set5']:.3f} / {row['float']['Set14'] - r['Set14']:.3f}"
                                 + (f" {r['ms']:.1f} ms" if "ms" in r else ""))  # fmt: skip
            print(f"  {quantize} {method:<12}" + "   ".join(cells))
    print(f"\nwritten: {results_path}")


if __name__ == "__main__":
    main()
