"""Scoring perceptual generators side by side (the tfsr-tpsr summary, bench/perceptual_x4.py).

PSNR/SSIM on Y with a `scale`-pixel border (as SR papers quote them),
LPIPS on the full RGB image (as the LPIPS reference figures are), one
column per LPIPS network given, `grid`: the 4-pixel grid strength in dB
(`tfsr.metrics.grid_strength`; about 0 without a visible grid), and `blocks`:
flat 4x4 tiles in dB (`tfsr.metrics.blockiness`; about 1 for bicubic).
"""

import json
import os

from tfsr import metrics
from tfsr.data.evalsets import load_eval_set
from tfsr.evaluation import evaluate


def perceptual_metrics(lpips_models, scale):
    """`{name: fn(sr, hr)}`: each `LPIPS` under its metric name, the grid strength and the blockiness."""
    found = {m.metric_name: m.score for m in lpips_models}
    found["grid"] = lambda sr, hr: metrics.grid_strength(sr, hr, period=scale, border=scale)
    found["blocks"] = lambda sr, hr: metrics.blockiness(sr, hr, period=scale, border=scale)
    return found


def score_models(upscalers, sets, scale, extra_metrics):
    """`{set name: {model name: mean scores}}` of every `Upscaler` on every folder in `sets`,
    and the pairs read (for crops)."""
    results, pairs_read = {}, []
    for folder in sets:
        pairs = load_eval_set(folder, scale)
        name = os.path.basename(os.path.normpath(folder))
        results[name] = {n: evaluate(u, pairs, scale, extra_metrics)["mean"] for n, u in upscalers.items()}
        pairs_read += pairs
    return results, pairs_read


def format_scores(results, costs=None):
    """A text table, a row per (model, set): PSNR, SSIM, each LPIPS, grid; then params and
    mult-adds where `costs` (`{model: (params, mult_adds)}`) has the model."""
    sets = list(results)
    models = list(results[sets[0]])
    keys = [k for k in results[sets[0]][models[0]] if k not in ("psnr", "ssim")]
    width = max(len(m) for m in models + ["model"]) + 2
    lines = [f"{'model':<{width}}{'set':<8}{'PSNR':>7}{'SSIM':>8}" + "".join(f"{k:>15}" for k in keys)
             + ("   params  mult-adds" if costs else "")]  # fmt: skip
    for m in models:
        for s in sets:
            r = results[s][m]
            line = f"{m:<{width}}{s:<8}{r['psnr']:7.2f}{r['ssim']:8.4f}" + "".join(f"{r[k]:15.4f}" for k in keys)
            if costs and m in costs:
                line += f" {costs[m][0]:>8,} {costs[m][1] / 1e9:9.2f}G"
            lines.append(line)
    return "\n".join(lines)


def write_crops(upscalers, pairs, path, count=6, crop_size=80):
    """`path`: a PNG of the most detailed crop of the first `count` images, a column per model, then HR."""
    from tfsr.visualize import before_after_row, comparison_grid

    strips = []
    for pair in pairs[:count]:
        outputs = [(n, u.super_resolve(pair.lr).image) for n, u in upscalers.items()]
        strips.append(before_after_row(pair.name, outputs, pair.hr, crop_size=crop_size))
    comparison_grid(strips).save(path)


def write_json(obj, path):
    """Writes `obj` as JSON atomically (a kill leaves the old file or the new one)."""
    from tfsr.train.trainer import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=1))
