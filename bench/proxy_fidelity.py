"""Does the search's proxy rank nets as full training does?  Proxy scores of
six x2 nets of ECBSR-M4C16's cost under proxy settings, against their Set5
PSNR after the full tiny recipe (configs/tiny_x2.py, 10,000 steps).

    python bench/proxy_fidelity.py [--proxies=constant@600,cosine@600,cosine@1000] [--out=runs/proxy_fidelity]

Each proxy score is computed exactly as a search of configs/tiny_x2_search.py
computes it (`ProxyTuner.score_spec`: the same patch stream and
initialization, Adam 2e-3, L1, 32-pixel patches), with the schedule and
length of the proxy column: "constant@600" is the proxy the searches ran
until 2026-12-02, "cosine@1000" the one they run now.  The nets (2.05-2.29G
mult-adds at 640x360):

  ECBSR plain        16 x 4 plain 3x3 convs, PReLU, anchor (ECBSR-M4C16's topology)
  ECBSR ecb          the same with ecb blocks
  ECBSR collapsible  the same with collapsible blocks
  + long residual    collapsible, and the body's input added to its output (SESR's)
  ecb + long         ecb blocks with the long residual
  SESR-M3            SESR's own: 5x5 stem and tail, 3 blocks

Every score and trained model is kept in OUT, so a killed run resumes.
Prints the table with each proxy's Spearman correlation to the full runs.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TFSR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
sys.path.insert(0, ROOT)

import tiny_x2 as tiny_x2_bench  # noqa: E402  (bench/tiny_x2.py, before configs/ joins the path)
from tfsr.arch import zoo  # noqa: E402


def with_long_residual(spec, name):
    spec.cells[0].residual = True
    spec.name = name
    return spec


NETS = {
    "ECBSR plain": lambda: zoo.ecbsr_plain(),
    "ECBSR ecb": lambda: zoo.ecbsr(),
    "ECBSR collapsible": lambda: zoo.ecbsr(block="collapsible"),
    "+ long residual": lambda: with_long_residual(zoo.ecbsr(block="collapsible"), "ecbsr_collapsible_long"),
    "ecb + long": lambda: with_long_residual(zoo.ecbsr(), "ecbsr_long"),
    "SESR-M3": lambda: zoo.sesr(m=3),
}


def spearman(a, b):
    """Spearman's rho of two equal-length lists (no ties expected)."""
    import numpy as np

    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def trained_psnr(out, spec, pairs):
    """Set5 PSNR (`pairs`) of `spec` after configs/tiny_x2.py, trained into
    OUT/<spec name> unless there (as bench/tiny_x2.py trains its rows)."""
    from tfsr.evaluation import evaluate
    from tfsr.inference import KerasUpscaler
    from tfsr.runs import load_trained, spec_for_model

    spec_path = os.path.join(out, spec.name, "arch.json")
    if not os.path.exists(spec_path):
        os.makedirs(os.path.dirname(spec_path), exist_ok=True)
        spec.save(spec_path)
    model_path = tiny_x2_bench.train(out, spec.name, spec_path)
    model = load_trained(model_path, spec_for_model(model_path))
    return evaluate(KerasUpscaler(model, scale=2), pairs, 2)["mean"]["psnr"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxies", default="constant@600,cosine@600,cosine@1000",
                        help="comma-separated SCHEDULE@STEPS")  # fmt: skip
    parser.add_argument("--out", default=os.path.join(ROOT, "runs", "proxy_fidelity"))
    args = parser.parse_args()
    proxies = []
    for item in args.proxies.split(","):
        schedule, _, steps = item.strip().partition("@")
        if schedule not in ("constant", "cosine") or not steps.isdigit():
            sys.exit(f"--proxies: {item!r} is not SCHEDULE@STEPS with SCHEDULE constant or cosine")
        proxies.append((schedule, int(steps)))

    from tfsr.search.run import make_tuner

    sys.path.insert(0, os.path.join(ROOT, "configs"))
    import tiny_x2_search

    os.chdir(ROOT)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "scores.json")
    scores = json.load(open(path)) if os.path.exists(path) else {}

    def save():
        with open(path + ".tmp", "w") as f:
            json.dump(scores, f, indent=1)
        os.replace(path + ".tmp", path)

    for schedule, steps in proxies:
        cfg = tiny_x2_search.get_config("2.3")
        cfg.proxy.update({"steps": steps, "schedule": schedule})
        tuner = make_tuner(cfg, os.path.join(args.out, f"tuner_{schedule}_{steps}"))
        for name, make in NETS.items():
            key = f"{name}|{schedule}@{steps}"
            if key not in scores:
                scores[key] = tuner.score_spec(make(), None)["psnr"]
                save()
            print(f"  {name}, {schedule}@{steps}: {scores[key]:.2f} dB", flush=True)

    from tfsr.data.evalsets import load_eval_set

    set5 = load_eval_set(os.path.join(os.path.dirname(ROOT), "shared", "data", "val", "Set5", "x2"), 2)
    for name, make in NETS.items():
        key = f"{name}|full"
        if key not in scores:
            scores[key] = trained_psnr(args.out, make(), set5)
            save()
        print(f"  {name}, full recipe: {scores[key]:.2f} dB", flush=True)
    columns = [f"{s}@{n}" for s, n in proxies]
    print("\nSet5 x2 PSNR (dB): full = configs/tiny_x2.py (10,000 steps); proxies = Adam 2e-3, L1, SCHEDULE@STEPS")
    print("| net | full | " + " | ".join(columns) + " |\n|---|---|" + "---|" * len(columns))
    full = [scores[f"{n}|full"] for n in NETS]
    for name in NETS:
        row = [f"{scores[f'{name}|{c}']:.2f}" for c in columns]
        print(f"| {name} | {scores[f'{name}|full']:.2f} | " + " | ".join(row) + " |")
    rhos = [f"{spearman([scores[f'{n}|{c}'] for n in NETS], full):+.2f}" for c in columns]
    best = max(NETS, key=lambda n: scores[f"{n}|full"])
    tops = [max(NETS, key=lambda n: scores[f"{n}|{c}"]) for c in columns]
    print("| Spearman to full | | " + " | ".join(rhos) + " |")
    print(f"| proxy's best (full: {best}) | | " + " | ".join(tops) + " |")


if __name__ == "__main__":
    main()
