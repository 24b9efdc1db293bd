"""DLSR's differentiable search against tfsr's NSGA-II search at the same
compute, and DLSR's penalty sweep, x2, on this machine.

    python bench/dlsr.py [--out=runs/dlsr_bench]

Stages, each resumable (re-run the same command after a kill) and skipped
when its output exists:

1. DLSR searches (configs/dlsr_x2.py: nf 18, 6 blocks, weight steps on
   T91 + BSD200, architecture steps on BSDS500test) for each penalty weight
   of `SWEEP`, `SEARCH_STEPS` weight steps each; the wall time is recorded;
2. an NSGA-II search of the plain space (configs/tiny_x2_search.py) with
   the mult-adds ceiling set to what DLSR derived at `MAIN_PENALTY` and its
   trials' time budget set to that DLSR search's wall time;
3. training of every derived spec and of NSGA-II's best spec (the front
   member with the highest proxy PSNR) with configs/tiny_x2.py cut to
   `TRAIN_STEPS` steps, int8 export, Set5 / Set14 x2 PSNR/SSIM (Y, 2-pixel
   border) float and int8, int8 1-thread latency at 640x360.

Prints the side-by-side table and the sweep; writes OUT/results.json.
"""

import argparse
import glob
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from measure import LR_SIZE, measure, print_table  # noqa: E402  (bench/measure.py)
from tiny_x2 import ROOT, SETS, T91_BSD200, tool  # noqa: E402

# The fixed budget of this benchmark (2-core CPU).
# Architecture Adam at 3e-3, not DLSR's 3e-4: Adam moves a logit by at most about lr per step, so
# over this budget's 400 architecture steps 3e-4 moves it by ~0.1 at most (runs/dlsr_x2, 800 steps
# at 3e-4: softmax(alpha) still between 0.08 and 0.13 everywhere).
SEARCH_STEPS = ["--config.dlsr.search_steps=500", "--config.dlsr.warmup=100", "--config.dlsr.phase_steps=100",
                "--config.dlsr.arch_lr=3e-3"]
# Penalty weights, per G mult-adds at 640x360.  0.01 already derives the cheapest network there is
# (conv1 in every step), so larger weights cannot go lower; the sweep fills in below it.
SWEEP = (0.0, 0.001, 0.003, 0.01)
MAIN_PENALTY = 0.01  # configs/dlsr_x2.py's: the one NSGA-II is matched to
TRAIN_STEPS = 3000  # configs/tiny_x2.py's recipe (batch 16, 32px patches) for this many steps


def timed(workdir, run):
    """Runs `run()` unless WORKDIR/search_seconds.json says it finished;
    returns the wall seconds it took (summed over resumed attempts)."""
    path = os.path.join(workdir, "search_seconds.json")
    record = json.load(open(path)) if os.path.exists(path) else {"seconds": 0.0, "finished": False}
    if not record["finished"]:
        os.makedirs(workdir, exist_ok=True)
        start = time.time()
        try:
            run()
            record["finished"] = True
        finally:
            record["seconds"] += time.time() - start
            with open(path, "w") as f:
                json.dump(record, f)
    return record["seconds"]


def dlsr_search(out, penalty):
    workdir = os.path.join(out, f"dlsr_penalty{penalty:g}")
    args = ["--config=configs/dlsr_x2.py", *SEARCH_STEPS, f"--config.dlsr.penalty_weight={penalty}"]
    seconds = timed(workdir, lambda: tool("search_dlsr", *args, f"--workdir={workdir}"))
    return os.path.join(workdir, "spec.json"), seconds


def nsga_search(out, max_gmacs, seconds):
    workdir = os.path.join(out, "nsga")
    # max_trials is only an upper bound here: the time budget ends the search.
    spent = timed(workdir, lambda: tool("search", f"--config=configs/tiny_x2_search.py:{max_gmacs:.3f}",
                                        "--config.search.max_trials=200", f"--config.search.time_budget={seconds:.0f}",
                                        f"--workdir={workdir}"))  # fmt: skip
    return sorted(glob.glob(os.path.join(workdir, "top", "1_*.json")))[0], spent


def train(out, key, arch):
    workdir = os.path.join(out, key)
    model = os.path.join(workdir, "model.keras")
    if not os.path.exists(model):
        tool("train", "--config=configs/tiny_x2.py", f"--arch={arch}", f"--config.train.steps={TRAIN_STEPS}",
             f"--workdir={workdir}")  # fmt: skip
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/dlsr_bench")
    args = parser.parse_args()
    os.chdir(ROOT)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    results_path = os.path.join(out, "results.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}

    from tfsr.arch import ArchSpec, count
    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset

    jobs = []  # (key, row, spec path, search seconds, penalty)
    for penalty in SWEEP:
        print(f"== DLSR search, penalty {penalty:g}/G", flush=True)
        spec, seconds = dlsr_search(out, penalty)
        jobs.append((f"dlsr_{penalty:g}", f"DLSR, penalty {penalty:g}", spec, seconds, penalty))
    main_spec, main_seconds = next((j[2], j[3]) for j in jobs if j[4] == MAIN_PENALTY)
    target = count(ArchSpec.load(main_spec), LR_SIZE).mult_adds / 1e9
    print(f"== NSGA-II search, <= {target:.2f}G, {main_seconds:.0f} s of trials", flush=True)
    spec, seconds = nsga_search(out, target, main_seconds)
    jobs.append(("nsga", f"NSGA-II <= {target:.2f}G", spec, seconds, None))

    eval_sets = {s: load_eval_set(f"../shared/data/val/{s}/x2", 2) for s in SETS}
    calibration = PatchDataset(T91_BSD200, 2, 24, 16, seed=0)
    for key, row, spec, seconds, penalty in jobs:
        if key not in results:
            print(f"== {row}: train, export, measure", flush=True)
            results[key] = measure(train(out, key, spec), row, calibration, eval_sets, 2)
        results[key].update({"search_seconds": seconds, "penalty": penalty})
        with open(results_path + ".tmp", "w") as f:
            json.dump(results, f, indent=1)
        os.replace(results_path + ".tmp", results_path)

    rows = [results[key] for key, *_ in jobs]
    print_table(f"x2, search then {TRAIN_STEPS} steps of configs/tiny_x2.py's recipe; PSNR/SSIM Y, 2px border; "
                "cost and int8 latency at 640x360, 1 thread", rows)  # fmt: skip
    print(f"\n{'search':<28}{'wall s':>8}  derived")
    for r in rows:
        ops = [c.get("options", {}).get("op") for c in r["spec"]["cells"] if c["block"] == "distill"]
        what = f"ops {ops[0]}" if ops else ", ".join(f"{c['block']}x{c.get('repeats', 1)}" for c in r["spec"]["cells"])
        print(f"{r['row']:<28}{r['search_seconds']:>8.0f}  {what}")
    print(f"\nwritten: {results_path}")


if __name__ == "__main__":
    sys.exit(main())
