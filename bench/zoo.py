"""Trains, measures and installs the pretrained zoo (tfsr/pretrained/).

    python bench/zoo.py [--out=runs/zoo] [--entries=x2,x3,x4] [--from_package] [--install]

For each entry, resumable (re-run the same command after a kill; a stage is
skipped when its output exists):

1. `tfsr-train --config=configs/zoo.py:ENTRY --workdir=OUT/ENTRY` (the
   budget is fixed in configs/zoo.py: 30,000 steps of batch 16 on the 614
   images of ../shared/data/train);
2. full-integer int8 TFLite export after quantization-aware fine-tuning
   (`tfsr-export --quantize=int8_qat` with its defaults: 200 calibration
   patches, 6,000 QAT steps from 3e-5 on T91+BSD200, patches of 96 HR
   pixels a side);
3. Set5 / Set14 PSNR/SSIM (Y, `scale`-pixel border, MATLAB-bicubic LR) of
   the float model and the int8 file, params and mult-adds for a 640x360 LR
   input, and the int8 file's median 1-thread latency (ai-edge-litert).

`--from_package` skips step 1: each entry starts from the float model
installed in tfsr/pretrained/ENTRY/ (copied to OUT/ENTRY/), so the int8
files and figures are made again without retraining.

`--install` then copies each entry's spec.json, model.keras and
model_int8.tflite into tfsr/pretrained/ENTRY/ and writes
tfsr/pretrained/zoo.json with the figures, the budget and the machine.
Prints the table the README's zoo section shows.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from measure import int8_latency_ms, measure, print_table  # bench/measure.py

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The configs read $TFSR_DATA; on this project's machines that is ../shared/data.
os.environ.setdefault("TFSR_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
SETS = ("Set5", "Set14")
SCALES = {"x2": 2, "x3": 3, "x4": 4}
CALIBRATION = "../shared/data/train/T91,../shared/data/train/BSD200"
BUDGET = ("30,000 steps x batch 16, 32px LR patches, Adam 1e-3 cosine to 1e-5, EMA 0.999, Charbonnier, "
          "614 images (T91, BSD200, BSDS500test, CQ100, Unsplash30)")  # fmt: skip
# QAT for every entry, with no choice per entry: whole training images do not separate
# it from post-training min/max (differences of -0.011 to +0.008 dB), and the benchmark
# sets must not choose.  On Set5 / Set14 it lost less than min/max at x2 (0.043 / 0.034
# dB against 0.075 / 0.042) and more at x3 (0.046 / 0.035 against 0.045 / 0.028) and x4
# (0.054 / 0.038 against 0.044 / 0.023).
INT8 = "int8_qat"
INT8_RECIPE = ("tfsr-export --quantize=int8_qat defaults: 6,000 QAT steps from 3e-5 on T91+BSD200, "
               "96x96 HR patches, 200 calibration patches")  # fmt: skip


def from_package(out, entry):
    """Copies the installed float model of `entry` (and its spec) to OUT/ENTRY, as if trained there."""
    from tfsr import pretrained

    workdir = os.path.join(out, entry)
    os.makedirs(workdir, exist_ok=True)
    for name in ("spec.json", pretrained.FILES["float"]):
        if not os.path.exists(os.path.join(workdir, name)):
            shutil.copyfile(os.path.join(pretrained.ZOO_DIR, entry, name), os.path.join(workdir, name))
    return os.path.join(workdir, pretrained.FILES["float"])


def train(out, entry):
    workdir = os.path.join(out, entry)
    model = os.path.join(workdir, "model.keras")
    if not os.path.exists(model):
        cmd = [sys.executable, "tools/train.py", f"--config=configs/zoo.py:{entry}", f"--workdir={workdir}"]
        print(f"  $ {' '.join(cmd[1:])}", flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    return model


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def compact_keras(src, dst):
    """Copies a .keras file with its members deflated: Keras stores them
    uncompressed, and HDF5's per-layer headers double a tiny model's file."""
    with zipfile.ZipFile(src) as source, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))


def install(out, results, entries):
    """Copies the entries into the package and writes zoo.json."""
    from tfsr import pretrained

    for entry in entries:
        target = os.path.join(pretrained.ZOO_DIR, entry)
        os.makedirs(target, exist_ok=True)
        for name in ("spec.json", pretrained.FILES["int8"]):
            shutil.copyfile(os.path.join(out, entry, name), os.path.join(target, name))
        compact_keras(os.path.join(out, entry, pretrained.FILES["float"]), os.path.join(target, pretrained.FILES["float"]))
    manifest_path = os.path.join(pretrained.ZOO_DIR, "zoo.json")
    # Entries installed by other scripts (bench/zoo_perceptual.py's) stay.
    entries_before = json.load(open(manifest_path))["entries"] if os.path.exists(manifest_path) else {}
    installed = {e: {k: v for k, v in results[e].items() if k != "int8_file"} for e in entries}
    manifest = {
        "budget": BUDGET,
        "int8": INT8_RECIPE,
        "measured_on": f"{cpu_name()}, {os.cpu_count()} cores; int8 latency: 1 thread, 640x360 LR input",
        "entries": {**entries_before, **installed},
    }
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    print(f"installed {', '.join(entries)} into {pretrained.ZOO_DIR}")


def save(results, path):
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/zoo")
    parser.add_argument("--entries", default="x2,x3,x4")
    parser.add_argument("--install", action="store_true", help="copy the results into tfsr/pretrained/")
    parser.add_argument("--from_package", action="store_true",
                        help="start from the float models in tfsr/pretrained/ instead of training them")
    parser.add_argument("--latency_only", action="store_true",
                        help="measure the int8 latency of the finished entries again (on an idle machine)")
    args = parser.parse_args()
    entries = args.entries.split(",")
    unknown = [e for e in entries if e not in SCALES]
    if unknown:
        parser.error(f"--entries: unknown {', '.join(unknown)} (known: {', '.join(SCALES)})")
    os.chdir(ROOT)  # the configs name the data relative to the checkout
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    results_path = os.path.join(out, "results.json")
    results = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)

    from tfsr.data.evalsets import load_eval_set
    from tfsr.data.pipeline import PatchDataset
    from tfsr.export.exporter import patch_side

    if args.latency_only:
        for entry in entries:
            results[entry]["int8_ms_1thread"] = int8_latency_ms(results[entry]["int8_file"])
    for entry in entries:
        if entry in results:
            continue
        scale = SCALES[entry]
        print(f"== zoo:{entry}: train, export, measure", flush=True)
        model = from_package(out, entry) if args.from_package else train(out, entry)
        eval_sets = {s: load_eval_set(f"../shared/data/val/{s}/x{scale}", scale) for s in SETS}
        calibration = PatchDataset(CALIBRATION, scale, patch_side(scale), 16, seed=0)  # tfsr-export's default
        results[entry] = measure(model, f"zoo:{entry}", calibration, eval_sets, scale, quantize=INT8)
        save(results, results_path)
    if args.latency_only:
        save(results, results_path)

    print_table(f"{BUDGET}; PSNR/SSIM Y, scale-pixel border; cost and int8 latency at 640x360 LR, 1 thread",
                [results[e] for e in entries])  # fmt: skip
    if args.install:
        install(out, results, entries)
    print(f"\nwritten: {results_path}")


if __name__ == "__main__":
    main()
