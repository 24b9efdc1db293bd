"""Do proxy-trained candidates survive?  Dead-run counts of re-parameterizable
and plain nets under the search's proxy, several seeds each.

    python bench/proxy_survival.py [--seeds=0,1,2] [--steps=300] [--lr=2e-3] [--out=runs/proxy_survival]

A candidate is *dead* when its proxy-trained Set5 x2 PSNR is at most 0.1 dB above
nearest-neighbour upscaling's (the anchor residual alone: the body outputs
nothing) or its training diverged.  Each net is scored exactly as a search
of configs/tiny_x2_search.py scores it (`ProxyTuner.score_spec`: the same
patch stream, Adam at the proxy learning rate, L1), with the proxy seed
varied to give independent initializations.  Rows:

  ECBSR-M4C16 ecb          5-branch edge-oriented blocks, PReLU
  ECBSR-M4C16 collapsible  the same topology, collapsible blocks (x16), PReLU
  M4C24 collapsible ReLU   24 channels, collapsible blocks, ReLU
  SESR-M5                  collapsible blocks with short residuals, PReLU
  ECBSR-M4C16 plain        plain convs (the control)

Each score is kept in OUT/scores.json, so a killed run resumes.  Prints one
line per run and the table.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TFSR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
sys.path.insert(0, ROOT)

from tfsr.arch import zoo  # noqa: E402
from tfsr.arch.spec import CellSpec, StemSpec, UpsamplerSpec  # noqa: E402


def collapsible_relu_m4c24():
    spec = zoo.ecbsr(m=4, c=24, block="collapsible")
    spec.cells = [CellSpec("collapsible", 24, kernel=3, repeats=4, activation="relu")]
    spec.stem = StemSpec(filters=24, kernel=3, activation="relu", block="collapsible")
    spec.upsampler = UpsamplerSpec(type="subpixel", kernel=3, global_skip="anchor", block="collapsible",
                                   options={"expansion": 4})  # fmt: skip
    spec.name = "collapsible_relu_m4c24"
    return spec


ROWS = {
    "ECBSR-M4C16 ecb": lambda: zoo.ecbsr(),
    "ECBSR-M4C16 collapsible": lambda: zoo.ecbsr(block="collapsible"),
    "M4C24 collapsible ReLU": collapsible_relu_m4c24,
    "SESR-M5": lambda: zoo.sesr(),
    "ECBSR-M4C16 plain": lambda: zoo.ecbsr_plain(),
}


def nearest_psnr(pairs, scale):
    """Set5 PSNR of nearest-neighbour upscaling: what a dead body leaves."""
    from tfsr.evaluation import evaluate
    from tfsr.inference import Upscaler

    class Nearest(Upscaler):
        channels = 1

        def __init__(self):
            super().__init__()
            self.scale = scale

        def _run(self, batch):
            return np.repeat(np.repeat(batch, scale, axis=1), scale, axis=2)

    return evaluate(Nearest(), pairs, scale)["mean"]["psnr"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2e-3, help="the proxy's Adam learning rate (the config's: 2e-3)")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated row names")
    parser.add_argument("--out", default=os.path.join(ROOT, "runs", "proxy_survival"))
    args = parser.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        sys.exit(f"--rows: unknown row {unknown[0]!r}; choose from {', '.join(ROWS)}")
    seeds = [int(s) for s in args.seeds.split(",")]

    import keras_tuner

    from tfsr.search.run import make_tuner

    sys.path.insert(0, os.path.join(ROOT, "configs"))
    import tiny_x2_search

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "scores.json")
    scores = json.load(open(path)) if os.path.exists(path) else {}
    cfg = tiny_x2_search.get_config("9.5")
    cfg.proxy.steps, cfg.proxy.learning_rate = args.steps, args.lr
    tuner = make_tuner(cfg, os.path.join(args.out, "tuner"))
    floor = nearest_psnr(tuner.val_pairs, cfg.scale)
    print(f"nearest-neighbour upscaling: Set5 {floor:.2f} dB; dead = within 0.1 dB of it or diverged", flush=True)
    for row in rows:
        for seed in seeds:
            key = f"{row}|seed={seed}|steps={args.steps}|lr={args.lr:g}"
            if key not in scores:
                tuner.proxy.seed = seed  # the patch stream follows it too
                try:
                    scores[key] = tuner.score_spec(ROWS[row](), None)["psnr"]
                except keras_tuner.errors.FailedTrialError as e:
                    print(f"  {row}, seed {seed}: failed ({e})", flush=True)
                    scores[key] = None
                with open(path + ".tmp", "w") as f:
                    json.dump(scores, f, indent=1)
                os.replace(path + ".tmp", path)
            psnr = scores[key]
            print(f"  {row}, seed {seed}: " + ("failed" if psnr is None else f"{psnr:.2f} dB"), flush=True)

    print(f"\n{args.steps} proxy steps at Adam {args.lr:g}, seeds {args.seeds}")
    print("| net | dead | Set5 PSNR per seed (dB) |\n|---|---|---|")
    for row in rows:
        psnrs = [scores[f"{row}|seed={s}|steps={args.steps}|lr={args.lr:g}"] for s in seeds]
        dead = sum(p is None or p < floor + 0.1 for p in psnrs)
        shown = " / ".join("failed" if p is None else f"{p:.2f}" for p in psnrs)
        print(f"| {row} | {dead} of {len(psnrs)} | {shown} |")


if __name__ == "__main__":
    main()
