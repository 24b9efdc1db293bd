"""tfsr-tpsr: TPSR's whole pipeline in one command, on the bundled images
(the smoke-test budgets of `tfsr.config.tpsr_config`)."""

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, run_tool
from tfsr import samples
from tfsr.arch import ArchSpec, count
from tfsr.data.evalsets import load_eval_set
from tfsr.evaluation import evaluate
from tfsr.inference import load_upscaler
from tfsr.perceptual import random_lpips_weights


@pytest.fixture(scope="module")
def lpips_file(tmp_path_factory):
    return random_lpips_weights(str(tmp_path_factory.mktemp("w") / "lpips.npz"), seed=5)


def test_tpsr_runs_every_stage_resumes_after_a_kill_and_skips_what_is_done(tmp_path, lpips_file):
    workdir = tmp_path / "tpsr"
    args = [f"--workdir={workdir}", f"--config.lpips_weights={lpips_file}", "--config.perceptual=lpips",
            "--config.calibration=minmax"]  # fmt: skip
    # Killed (SIGKILL) once the discriminator search has started.
    proc = subprocess.Popen([sys.executable, "-m", "tfsr.cli.tpsr", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("[3/7] discriminator search ..."):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert any(line.startswith("[2/7] PSNR training: finished") for line in seen), "".join(seen[-20:])

    result = run_tool("tpsr", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    out = result.stdout
    assert "[1/7] generator search: done" in out and "[2/7] PSNR training: done" in out
    for k, stage in enumerate(["discriminator search", "perceptual + adversarial training (searched D)",
                               "perceptual + adversarial training (srgan D)", "evaluation", "int8 export"], 3):  # fmt: skip
        assert f"[{k}/7] {stage}: finished" in out

    summary = json.loads((workdir / "summary.json").read_text())
    spec = ArchSpec.from_dict(summary["generator"])
    # The searched generator is TPSR's: x4 RGB, summed 16-channel nodes, within TPSR-D2's budget.
    assert (spec.scale, spec.channels, spec.stem.filters) == (4, 3, 16)
    assert all(c.merge == "sum" and c.channels == 16 and c.block in ("conv", "sepconv") for c in spec.cells)
    cost = count(spec, (180, 320))
    assert summary["params"] == cost.params <= 61100 and summary["mult_adds"] == cost.mult_adds <= 3.57e9
    scores = summary["scores"]["val"]
    assert list(scores) == ["bicubic", "PSNR-trained", "GAN, searched D", "GAN, srgan D"]
    assert all({"psnr", "ssim", "lpips", "grid", "blocks"} <= set(row) for row in scores.values())
    assert "GAN, searched D" in out and "shipped (GAN, searched D)" in out
    # The int8 file is the GAN generator's: it runs and scores close to it.
    tflite = workdir / "6_export" / "generator_int8.tflite"
    pairs = load_eval_set(samples.VAL_DIR, 4, limit=2)
    gan = evaluate(load_upscaler(str(workdir / "4_gan" / "generator.keras"), 4), pairs, 4)["mean"]["psnr"]
    int8 = evaluate(load_upscaler(str(tflite), 4), pairs, 4)["mean"]["psnr"]
    assert abs(gan - int8) < 1.0 and np.isfinite(int8)
    assert (workdir / "5_evaluation" / "crops.png").stat().st_size > 10_000

    # Everything done: a third run recomputes nothing and prints the same table.
    before = tflite.stat().st_mtime_ns
    again = run_tool("tpsr", *args)
    assert again.returncode == 0 and again.stdout.count(": done (") == 7
    assert tflite.stat().st_mtime_ns == before
    assert out[out.index("\ntpsr_x4_searched"):] == again.stdout[again.stdout.index("\ntpsr_x4_searched"):]



def test_a_given_generator_spec_replaces_the_search(tmp_path, lpips_file):
    from tfsr.config import tpsr_config
    from tfsr.gan.pipeline import TpsrPipeline

    cfg = tpsr_config()
    cfg.update({"lpips_weights": lpips_file, "perceptual": "lpips", "generator": "configs/specs/tpsr_x4_tiny.json"})
    pipeline = TpsrPipeline(cfg, str(tmp_path / "run"), log=lambda line: None)
    titles = [stage.title for stage in pipeline.stages()]
    assert titles[0] == "PSNR training" and "generator search" not in titles
    assert pipeline.generator_spec() == ArchSpec.load("configs/specs/tpsr_x4_tiny.json")

    # A missing or wrong-scale spec fails in one line before any stage runs.
    x2 = tmp_path / "x2.json"
    x2.write_text(ArchSpec.load("configs/specs/falsr_x2_4g.json").to_json())
    for path, expected in ((tmp_path / "nope.json", "nope.json"), (x2, "is x2; the pipeline is x4")):
        result = run_tool("tpsr", f"--workdir={tmp_path / 'w'}", f"--config.lpips_weights={lpips_file}",
                          "--config.perceptual=lpips", f"--config.generator={path}")  # fmt: skip
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert expected in result.stderr
        assert not (tmp_path / "w" / "2_psnr").exists()
