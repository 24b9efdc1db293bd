"""Tiny x2 rows trained with several seeds: is a gap bigger than training noise?

    python bench/seeded_x2.py [--out=runs/seeded_x2] [--rows=searched_2.3g,sesr_m3] [--seeds=0,1]

bench/tiny_x2.py trains each row once; the same network trained twice
(before tfsr-train seeded the initialization) ended up to 0.08 dB apart,
the size of the gaps it compares.  This script
trains every row (a built-in `--arch` name or a spec file; NAME=PATH names
a file's row) with configs/tiny_x2.py's budget (10,000 steps of batch 16,
32x32 LR patches, Adam 1e-3 cosine to 1e-5, EMA 0.999, Charbonnier, the
614 images of $TFSR_DATA/train) once per seed (`--config.train.seed`: the
initialization and the patch stream), and prints the float Set5 / Set14
PSNR (Y, 2-pixel border, MATLAB-bicubic LR) of each run and their mean,
with deployed params and mult-adds at 640x360 LR.

Resumable: OUT/ROW/seedN is the run's workdir (a killed run resumes), and
OUT/results.json keeps every finished evaluation.
"""

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from calibration import save_results  # noqa: E402  (bench/calibration.py)
from measure import LR_SIZE  # noqa: E402  (bench/measure.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The configs read $TFSR_DATA; on this project's machines that is ../shared/data.
os.environ.setdefault("TFSR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
SETS = ("Set5", "Set14")


def parse_rows(text):
    """"searched_2.3g,d/w.json,x=d/y.json" -> [("searched_2.3g", "searched_2.3g"), ("w", "d/w.json"), ("x", "d/y.json")]."""
    rows = []
    for item in text.split(","):
        name, _, arch = item.rpartition("=")
        if not name:  # a built-in's name is its row's; a file's, its name without .json
            name = os.path.basename(arch)[: -len(".json")] if arch.endswith(".json") else arch
        rows.append((name, arch))
    return rows


def train(workdir, arch, seed):
    model = os.path.join(workdir, "model.keras")
    if not os.path.exists(model):
        cmd = [sys.executable, "tools/train.py", "--config=configs/tiny_x2.py", f"--arch={arch}",
               f"--config.train.seed={seed}", f"--workdir={workdir}"]  # fmt: skip
        print(f"  $ {' '.join(cmd[1:])}", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    return model


def evaluate_float(model_path, eval_sets):
    from tfsr.arch import count
    from tfsr.evaluation import evaluate
    from tfsr.inference import KerasUpscaler
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(model_path)
    upscaler = KerasUpscaler(load_trained(model_path, spec), scale=2)
    cost = count(spec, LR_SIZE)
    result = {"params": cost.params, "mult_adds": cost.mult_adds}
    for name, pairs in eval_sets.items():
        result[name] = evaluate(upscaler, pairs, 2)["mean"]["psnr"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/seeded_x2")
    parser.add_argument("--rows", default="searched_2.3g,sesr_m3")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    rows, seeds = parse_rows(args.rows), [int(s) for s in args.seeds.split(",")]
    os.chdir(ROOT)  # the configs name the data relative to the checkout
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    results_path = os.path.join(out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}

    from tfsr.data.evalsets import load_eval_set

    eval_sets = {s: load_eval_set(f"../shared/data/val/{s}/x2", 2) for s in SETS}
    for name, arch in rows:
        for seed in seeds:
            key = f"{name}/seed{seed}"
            if key in results:
                continue
            print(f"== {key}", flush=True)
            results[key] = evaluate_float(train(os.path.join(out, name, f"seed{seed}"), arch, seed), eval_sets)
            save_results(results, results_path)

    print("\nconfigs/tiny_x2.py budget (10,000 steps x batch 16, 32px LR patches, 614 images); "
          "float PSNR, Y, 2-pixel border; cost at 640x360 LR")  # fmt: skip
    print(f"{'row':<22}{'params':>8}{'GMACs':>7}" + "".join(f"{f'seed {s} Set5/Set14':>22}" for s in seeds)
          + f"{'mean Set5/Set14':>22}")  # fmt: skip
    for name, _ in rows:
        runs = [results[f"{name}/seed{s}"] for s in seeds]
        line = f"{name:<22}{runs[0]['params']:>8,}{runs[0]['mult_adds'] / 1e9:>7.2f}"
        line += "".join(f"{r['Set5']:>14.2f} / {r['Set14']:.2f}" for r in runs)
        mean = {s: sum(r[s] for r in runs) / len(runs) for s in SETS}
        print(line + f"{mean['Set5']:>14.3f} / {mean['Set14']:.3f}")
    print(f"\nwritten: {results_path}")


if __name__ == "__main__":
    main()
