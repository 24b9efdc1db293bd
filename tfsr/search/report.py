"""What a finished (or interrupted) search leaves behind for people.

    pareto.json   {"trials": N_completed, "front": [{"trial_id", "spec",
                  "psnr", "params", "mult_adds"[, "latency_ms"]}, ...]}
                  (feasible, non-dominated, costs for the search's LR size,
                  sorted by the objective's cost; latency_ms: the int8 file's,
                  when the search measures it)
    pareto.png    PSNR vs mult-adds, or vs int8 ms for the latency objective:
                  all trials grey, the front highlighted, the constraints drawn
    top/<rank>_trial_<id>.json   the best-PSNR front members, ready for tfsr-train
"""

import json
import os

from keras_tuner.src.engine import trial as trial_module


def front_rows(oracle):
    rows = []
    for t in oracle.pareto_front():
        cost = oracle.cost_of(t)
        spec = oracle.spec_of(t)
        spec.name = f"trial_{t.trial_id}"
        row = {
            "trial_id": t.trial_id,
            "spec": spec.to_dict(),
            "psnr": float(t.score),
            "params": int(cost.params),
            "mult_adds": int(cost.mult_adds),
        }
        latency_ms = oracle.latency_of(t) if hasattr(oracle, "latency_of") else None
        if latency_ms is not None:
            row["latency_ms"] = float(latency_ms)
        rows.append(row)
    return rows


def write_report(oracle, workdir, top_k=3, bicubic_psnr=None):
    """Writes pareto.json, pareto.png and the top-k specs; returns the rows.
    `bicubic_psnr`: bicubic upscaling's PSNR on the validation set, the
    level every trial should clear (drawn and recorded when given)."""
    completed = oracle.completed()
    rows = front_rows(oracle)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "pareto.json"), "w") as f:
        json.dump({"trials": len(completed), "lr_size": list(oracle.lr_size), "bicubic_psnr": bicubic_psnr,
                   "front": rows}, f, indent=1)  # fmt: skip
    top_dir = os.path.join(workdir, "top")
    os.makedirs(top_dir, exist_ok=True)
    for old in os.listdir(top_dir):
        os.remove(os.path.join(top_dir, old))
    for rank, row in enumerate(sorted(rows, key=lambda r: -r["psnr"])[:top_k], 1):
        with open(os.path.join(top_dir, f"{rank}_trial_{row['trial_id']}.json"), "w") as f:
            json.dump(row["spec"], f, indent=2)
    plot_front(oracle, completed, rows, os.path.join(workdir, "pareto.png"), bicubic_psnr)
    return rows


def plot_front(oracle, completed, rows, path, bicubic_psnr=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    in_ms = getattr(oracle, "cost_objective", "mult_adds") == "latency"
    if in_ms:
        xs = [oracle.latency_of(t) for t in completed]
        front_x = [r["latency_ms"] for r in rows]
    else:
        xs = [oracle.cost_of(t).mult_adds / 1e9 for t in completed]
        front_x = [r["mult_adds"] / 1e9 for r in rows]
    ys = [t.score for t in completed]
    ax.scatter(xs, ys, c="0.7", s=18, label=f"trials ({len(completed)})")
    failed = [t for t in oracle.trials.values() if t.status == trial_module.TrialStatus.FAILED]
    if rows:
        ax.plot(front_x, [r["psnr"] for r in rows], "-o", c="tab:red", ms=6, label=f"Pareto front ({len(rows)})")
        for x, r in zip(front_x, rows):
            ax.annotate(r["trial_id"], (x, r["psnr"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if oracle.max_mult_adds and not in_ms:
        ax.axvline(oracle.max_mult_adds / 1e9, ls="--", c="tab:blue", lw=1, label="max mult-adds")
    if getattr(oracle, "min_mult_adds", None) and not in_ms:
        ax.axvline(oracle.min_mult_adds / 1e9, ls=":", c="tab:blue", lw=1, label="min mult-adds")
    if getattr(oracle, "max_latency_ms", None) and in_ms:
        ax.axvline(oracle.max_latency_ms, ls="--", c="tab:blue", lw=1, label="max latency")
    if oracle.min_psnr:
        ax.axhline(oracle.min_psnr, ls=":", c="tab:green", lw=1, label="min PSNR")
    if bicubic_psnr is not None:
        ax.axhline(bicubic_psnr, ls="-.", c="0.35", lw=1, label=f"bicubic ({bicubic_psnr:.2f} dB)")
    h, w = oracle.lr_size
    if in_ms:
        ax.set_xlabel(f"int8 TFLite latency (ms, {oracle.latency.threads} thread(s)) for a {w}x{h} LR input")
    else:
        ax.set_xlabel(f"mult-adds (G) for a {w}x{h} LR input")
    ax.set_ylabel("validation PSNR (dB, proxy training)")
    title = "tfsr search: PSNR vs " + ("int8 latency" if in_ms else "mult-adds")
    if failed:
        title += f" ({len(failed)} failed trials not shown)"
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def format_front(rows):
    timed = any("latency_ms" in r for r in rows)
    lines = [f"{'trial':>6}  {'PSNR':>7}  {'mult-adds':>10}  {'params':>8}  " + ("int8 ms  " if timed else "") + "cells"]
    for r in rows:
        line = f"{r['trial_id']:>6}  {r['psnr']:7.2f}  {r['mult_adds'] / 1e9:9.2f}G  {r['params'] / 1e3:7.1f}K  "
        if timed:
            line += f"{r.get('latency_ms', float('nan')):7.1f}  "
        lines.append(line + f"{len(r['spec']['cells'])}")
    return "\n".join(lines)
