"""What the bench tables report for one trained model: float and int8
PSNR/SSIM on the benchmark sets, deployed cost and int8 latency."""

import os

from tfsr.latency import LR_SIZE  # noqa: F401  (bench scripts import it from here)


def measure(model_path, row, calibration, eval_sets, scale, extra_metrics=None, quantize="int8"):
    """One table row for the trained model at `model_path` (spec.json beside
    it): exports `model_int8.tflite` beside it (full-integer, float32 I/O,
    calibrated on `calibration`; `quantize="int8_qat"`: after tfsr-export's
    quantization-aware fine-tuning on it) unless it exists, then returns params and
    mult-adds at 640x360, "{float,int8}_{set}" [PSNR, SSIM] (Y, `scale`-pixel
    border) for each of `eval_sets` ({name: pairs}) and the int8 latency;
    with `extra_metrics` ({name: fn(sr, hr)}, e.g. LPIPS) also their means as
    "{float,int8}_{set}_extra" {name: value}."""
    from tfsr.arch import count
    from tfsr.evaluation import evaluate
    from tfsr.export.exporter import export
    from tfsr.inference import KerasUpscaler, TFLiteUpscaler
    from tfsr.runs import load_trained, spec_for_model

    spec = spec_for_model(model_path)
    model = load_trained(model_path, spec)
    int8 = os.path.join(os.path.dirname(model_path), "model_int8.tflite")
    if not os.path.exists(int8):
        export(model, spec, "tflite", int8, quantize=quantize, train_data=calibration, log=lambda m: None)
    cost = count(spec, LR_SIZE)
    result = {"row": row, "spec": spec.to_dict(), "params": cost.params, "mult_adds": cost.mult_adds}
    upscalers = (("float", KerasUpscaler(model, scale=scale)), ("int8", TFLiteUpscaler(int8, num_threads=1)))
    for form, upscaler in upscalers:
        for set_name, pairs in eval_sets.items():
            mean = evaluate(upscaler, pairs, scale, extra_metrics)["mean"]
            result[f"{form}_{set_name}"] = [mean["psnr"], mean["ssim"]]
            if extra_metrics:
                result[f"{form}_{set_name}_extra"] = {k: mean[k] for k in extra_metrics}
    result["int8_file"] = int8
    result["int8_ms_1thread"] = int8_latency_ms(int8)
    return result


def int8_latency_ms(path, runs=15):
    """Median latency of one 640x360 LR input, 1 thread (ai-edge-litert, XNNPACK), timed as the search times it."""
    from tfsr.latency import tflite_latency_ms

    return tflite_latency_ms(path, LR_SIZE, threads=1, runs=runs)


def print_table(title, rows, sets=("Set5", "Set14")):
    print(f"\n{title}")
    head = f"{'model':<28}{'params':>8}{'GMACs':>7}"
    head += "".join(f"{f'{s} float':>17}{f'{s} int8':>10}" for s in sets) + f"{'int8 ms':>9}"
    print(head)
    for r in rows:
        line = f"{r['row']:<28}{r['params']:>8,}{r['mult_adds'] / 1e9:>7.2f}"
        for s in sets:
            (fp, fs), (ip, _) = r[f"float_{s}"], r[f"int8_{s}"]
            line += f"{fp:>10.2f}/{fs:.4f}{ip:>10.2f}"
        print(line + f"{r['int8_ms_1thread']:>9.1f}")
