"""ParetoOracle (NSGA-II + RL) vs keras-tuner's RandomSearch at equal budget.

    python bench/search_vs_random.py --seeds=0,1,2 --trials=12 --proxy_steps=100

Both searches use the same FalsrHyperModel hyperparameters, the same proxy
training and the same data (../shared/data: 291 training images, Set5 x2
for validation).  Reported per run and as mean +- std over seeds: the
hypervolume of the feasible (PSNR, mult-adds) front, with reference point
(PSNR = bicubic on the validation set, mult-adds = the ceiling), in dB*G;
and search throughput in trials/hour.  Runs resume from runs/bench/.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from tfsr.config import search_config  # noqa: E402
from tfsr.data.evalsets import load_eval_set  # noqa: E402
from tfsr.evaluation import evaluate  # noqa: E402
from tfsr.inference import BicubicUpscaler  # noqa: E402
from tfsr.search.pareto import hypervolume_2d  # noqa: E402
from tfsr.search.run import make_tuner  # noqa: E402

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def front_hypervolume(tuner, ceiling, psnr_ref):
    """HV of the feasible front over (-PSNR, mult-adds in G), both minimized."""
    from tfsr.arch import count

    points = []
    for t in tuner.oracle.trials.values():
        if t.status != "COMPLETED" or t.score is None:
            continue
        spec = tuner.hypermodel.spec_from_hp(t.hyperparameters.copy())
        mult_adds = count(spec, (480, 480)).mult_adds / 1e9
        if mult_adds <= ceiling:
            points.append((-t.score, mult_adds))
    return hypervolume_2d(points, (-psnr_ref, ceiling)), len(points)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--population", type=int, default=5)
    parser.add_argument("--proxy_steps", type=int, default=100)
    parser.add_argument("--ceiling_g", type=float, default=6.0, help="max mult-adds (G) at 480x480")
    parser.add_argument("--workdir", default="runs/bench")
    args = parser.parse_args()

    val = os.path.join(SHARED, "val", "Set5")
    psnr_ref = evaluate(BicubicUpscaler(2), load_eval_set(val, 2), 2)["mean"]["psnr"]
    results = {"pareto": [], "random": []}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for kind in ("pareto", "random"):
            cfg = search_config()
            cfg.train_data = f"{SHARED}/train/T91,{SHARED}/train/BSD200"
            cfg.val_data = val
            cfg.search.update(dict(max_trials=args.trials, population_size=args.population, seed=seed,
                                   max_mult_adds=args.ceiling_g * 1e9))  # fmt: skip
            cfg.space.update(dict(min_cells=2, max_cells=5))
            cfg.proxy.update(dict(steps=args.proxy_steps, seed=seed))
            t0 = time.time()
            tuner = make_tuner(cfg, os.path.join(args.workdir, f"{kind}_seed{seed}"), oracle_kind=kind)
            tuner.search()
            hours = (time.time() - t0) / 3600
            hv, feasible = front_hypervolume(tuner, args.ceiling_g, psnr_ref)
            row = {"seed": seed, "hypervolume": hv, "feasible_trials": feasible, "trials_per_hour": args.trials / hours}
            results[kind].append(row)
            print(f"{kind:7s} seed {seed}: HV {hv:.3f} dB*G, {feasible}/{args.trials} feasible,"
                  f" {row['trials_per_hour']:.0f} trials/h", flush=True)  # fmt: skip
    print(f"\nreference point: PSNR {psnr_ref:.2f} dB (bicubic, Set5 x2), {args.ceiling_g}G mult-adds (480x480)")
    for kind, rows in results.items():
        hv = np.array([r["hypervolume"] for r in rows])
        tph = np.mean([r["trials_per_hour"] for r in rows])
        print(f"{kind:7s}: hypervolume {hv.mean():.3f} +- {hv.std():.3f} dB*G over {len(rows)} seeds"
              f" (min {hv.min():.3f}, max {hv.max():.3f}); {tph:.0f} trials/h")  # fmt: skip
    with open(os.path.join(args.workdir, "summary.json"), "w") as f:
        json.dump({"psnr_ref": psnr_ref, "ceiling_g": args.ceiling_g, **results}, f, indent=1)


if __name__ == "__main__":
    main()
