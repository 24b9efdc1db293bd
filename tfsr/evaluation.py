"""Scoring an `Upscaler` on an evaluation set, the way SR papers do."""

import numpy as np

from tfsr import color, metrics


def evaluate(upscaler, pairs, scale, extra_metrics=None):
    """Per-image and mean scores.

    Args:
        upscaler: a `tfsr.inference.Upscaler`.
        pairs: `EvalPair`s from `tfsr.data.evalsets.load_eval_set`.
        scale: the SR factor (also the border cropped before scoring).
        extra_metrics: optional `{name: fn(sr_uint8, hr_uint8) -> float}`
            (LPIPS, ...), reported beside psnr/ssim.

    Returns:
        `{"mean": {"psnr": .., "ssim": ..}, "images": [{"name", "psnr", "ssim"}, ..]}`
    """
    extra_metrics = extra_metrics or {}
    rows = []
    for pair in pairs:
        result = upscaler.super_resolve(pair.lr)
        hr_luma = color.luma(pair.hr)
        row = {
            "name": pair.name,
            "psnr": metrics.psnr(result.luma, hr_luma, border=scale),
            "ssim": metrics.ssim(result.luma, hr_luma, border=scale),
        }
        for name, fn in extra_metrics.items():
            row[name] = float(fn(result.image, pair.hr))
        rows.append(row)
    keys = [k for k in rows[0] if k != "name"] if rows else ["psnr", "ssim"]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return {"mean": mean, "images": rows}


def format_table(report, title=""):
    """A fixed-width text table of a report from `evaluate`."""
    keys = list(report["mean"])
    width = max([len(r["name"]) for r in report["images"]] + [6])
    lines = []
    if title:
        lines.append(title)
    lines.append(f"{'image':<{width}}  " + "  ".join(f"{k:>8}" for k in keys))
    for r in report["images"]:
        lines.append(f"{r['name']:<{width}}  " + "  ".join(_fmt(k, r[k]) for k in keys))
    lines.append(f"{'mean':<{width}}  " + "  ".join(_fmt(k, report["mean"][k]) for k in keys))
    return "\n".join(lines)


def _fmt(key, value):
    return f"{value:8.2f}" if key == "psnr" else f"{value:8.4f}"
