"""Searching under a latency budget: mult-adds ceiling vs latency ceiling vs Optuna.

    python bench/latency_search.py [--seeds=0,1,2] [--trials=10] [--proxy_steps=300] [--out=runs/latency_search]

The budget is the measured 1-thread int8 latency at 640x360 LR of
ECBSR-M4C16 (`--arch=ecbsr`, deployed form) exported by tfsr on this
machine.  Three searches of configs/tiny_x2_search.py:int8's plain space
(ReLU and PReLU, one proxy training per candidate), each
scoring a candidate by the Set5 x2 PSNR of its int8 TFLite file after
proxy training (`search.score=int8`), at the same trial budget per seed:

  mult_adds  ParetoOracle, objective mult-adds, ceiling = ECBSR-M4C16's mult-adds
             (what FALSR/TPSR do: the budget expressed as a proxy for time);
  latency    ParetoOracle, objective int8 ms, ceiling = the budget;
  optuna     Optuna NSGA-II over the same hyperparameters, objective int8 ms,
             ceiling = the budget (tfsr.search.optuna_peer).

Latencies during the search come from a tfsr-profile of this machine
(`--profile`; made by bench/latency_predictor.py, made here if missing).
Reported per run: the hypervolume of the trials within the budget in
(int8 Set5 PSNR, predicted ms), reference point (bicubic Set5 PSNR, the
budget), in dB*ms; and the best such trial's int8 file on Set5 / Set14
with its latency measured directly (last, all together; --retime times
them again: run that on an idle machine).  Every run resumes from OUT/.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TFSR_DATA", os.path.join(ROOT, "..", "shared", "data"))
MODES = ("mult_adds", "latency", "optuna")


def load_config(path, arg):
    spec = importlib.util.spec_from_file_location("bench_config", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(arg)


def measure_budget(out):
    """ECBSR-M4C16's int8 ms and mult-adds at 640x360 (measured once, kept in OUT/budget.json)."""
    from tfsr.arch import count, zoo
    from tfsr.latency import LR_SIZE, tflite_latency_ms, write_int8_file

    path = os.path.join(out, "budget.json")
    if not os.path.exists(path):
        spec = zoo.resolve("ecbsr", 2)
        tflite = write_int8_file(spec, os.path.join(out, "ecbsr_m4c16_int8.tflite"))
        budget = {"ms": tflite_latency_ms(tflite, LR_SIZE, threads=1), "mult_adds": count(spec, LR_SIZE).mult_adds}
        with open(path, "w") as f:
            json.dump(budget, f)
    return json.load(open(path))


def run(mode, seed, args, budget):
    """One search; returns [(trial folder, int8 Set5 PSNR, predicted ms)] of its scored trials."""
    from tfsr.search.optuna_peer import run_optuna
    from tfsr.search.run import _predicted_latency, make_tuner

    cfg = load_config(os.path.join(ROOT, "configs", "tiny_x2_search.py"), "int8")
    cfg.search.update({"seed": seed, "max_trials": args.trials, "score": "int8", "device_profile": args.profile})
    cfg.proxy.steps = args.proxy_steps
    if mode == "mult_adds":
        cfg.search.update({"objective": "mult_adds", "max_mult_adds": float(budget["mult_adds"])})
    else:
        cfg.search.update({"objective": "latency", "max_mult_adds": 0.0, "max_latency_ms": budget["ms"]})
    workdir = os.path.join(args.out, f"{mode}_seed{seed}")
    tuner = make_tuner(cfg, workdir)
    predicted = _predicted_latency(args.profile, tuner.oracle.lr_size, 1)
    if mode == "optuna":
        study = run_optuna(tuner, workdir, args.trials, sampler="nsga2", seed=seed)
        from tfsr.arch import ArchSpec

        return [(os.path.join(workdir, f"trial_{t.number}"), t.values[0],
                 predicted(ArchSpec.from_dict(t.user_attrs["spec"])))
                for t in study.trials if t.values and t.values[0] > 0]  # fmt: skip
    tuner.search()
    return [(tuner.get_trial_dir(t.trial_id), t.score, predicted(tuner.oracle.spec_of(t)))
            for t in tuner.oracle.trials.values() if t.status == "COMPLETED" and t.score is not None]  # fmt: skip


def best_within(points, budget_ms, set14):
    """The best trial within the budget: its int8 file on Set5 (the score) and Set14, measured ms."""
    from tfsr.evaluation import evaluate
    from tfsr.inference import TFLiteUpscaler

    inside = [p for p in points if p[2] <= budget_ms]
    if not inside:
        return None
    folder, psnr5, _ = max(inside, key=lambda p: p[1])
    tflite = os.path.join(folder, "model_int8.tflite")
    psnr14 = evaluate(TFLiteUpscaler(tflite), set14, 2)["mean"]["psnr"]
    return {"trial": folder, "set5": psnr5, "set14": psnr14}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--proxy_steps", type=int, default=300)
    parser.add_argument("--profile", default="runs/latency_predictor/profile.json")
    parser.add_argument("--out", default="runs/latency_search")
    parser.add_argument("--retime", action="store_true", help="time the best files again (on an idle machine)")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    if not os.path.exists(args.profile):
        subprocess.run([sys.executable, "bench/latency_predictor.py", f"--out={os.path.dirname(args.profile)}"],
                       check=True)  # fmt: skip

    import numpy as np

    from tfsr.data.evalsets import load_eval_set
    from tfsr.evaluation import evaluate
    from tfsr.inference import BicubicUpscaler
    from tfsr.latency import LR_SIZE, tflite_latency_ms
    from tfsr.search.pareto import hypervolume_2d

    budget = measure_budget(args.out)
    set5 = load_eval_set("$TFSR_DATA/val/Set5", 2)
    set14 = load_eval_set("$TFSR_DATA/val/Set14", 2)
    psnr_ref = evaluate(BicubicUpscaler(2), set5, 2)["mean"]["psnr"]
    print(f"budget: ECBSR-M4C16 int8 {budget['ms']:.1f} ms, {budget['mult_adds'] / 1e9:.2f}G mult-adds (640x360, "
          f"1 thread); reference point: bicubic Set5 {psnr_ref:.2f} dB", flush=True)  # fmt: skip
    results = {mode: [] for mode in MODES}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for mode in MODES:
            points = run(mode, seed, args, budget)
            inside = [(-psnr, ms) for _, psnr, ms in points if ms <= budget["ms"]]
            row = {"seed": seed, "hypervolume": hypervolume_2d(inside, (-psnr_ref, budget["ms"])),
                   "within_budget": len(inside), "scored": len(points),
                   "best": best_within(points, budget["ms"], set14)}  # fmt: skip
            results[mode].append(row)
            best = row["best"]
            print(f"{mode:9s} seed {seed}: HV {row['hypervolume']:.1f} dB*ms, {len(inside)}/{len(points)} scored "
                  "trials within budget; best int8 " + (f"{best['set5']:.2f} / {best['set14']:.2f} dB" if best else "none"),
                  flush=True)  # fmt: skip
    # The best files are timed last, together (and again with --retime): every other
    # figure is independent of the machine's load, these are not.
    summary_path = os.path.join(args.out, "summary.json")
    timed = json.load(open(summary_path))["results"] if os.path.exists(summary_path) else {}
    for mode, rows in results.items():
        for row, old in zip(rows, timed.get(mode, [])):
            if row["best"] and old.get("best") and old["best"]["trial"] == row["best"]["trial"] and not args.retime:
                row["best"]["ms"] = old["best"].get("ms")
    for rows in results.values():
        for row in rows:
            if row["best"] and row["best"].get("ms") is None:
                tflite = os.path.join(row["best"]["trial"], "model_int8.tflite")
                row["best"]["ms"] = tflite_latency_ms(tflite, LR_SIZE, threads=1)
    with open(summary_path, "w") as f:
        json.dump({"budget": budget, "psnr_ref": psnr_ref, "results": results}, f, indent=1)
    print("\n| search | hypervolume (dB*ms) | best int8 Set5 | best int8 Set14 | its ms | within budget |")
    print("|---|---|---|---|---|---|")
    for mode, rows in results.items():
        hv = np.array([r["hypervolume"] for r in rows])
        bests = [r["best"] for r in rows if r["best"]]
        s5 = np.array([b["set5"] for b in bests]) if bests else np.array([np.nan])
        s14 = np.array([b["set14"] for b in bests]) if bests else np.array([np.nan])
        ms = np.array([b["ms"] for b in bests]) if bests else np.array([np.nan])
        inside = sum(r["within_budget"] for r in rows)
        scored = sum(r["scored"] for r in rows)
        print(f"| {mode} | {hv.mean():.1f} ± {hv.std():.1f} | {s5.mean():.2f} ± {s5.std():.2f} | "
              f"{s14.mean():.2f} ± {s14.std():.2f} | {ms.mean():.1f} | {inside}/{scored} |")  # fmt: skip


if __name__ == "__main__":
    main()
