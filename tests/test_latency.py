"""Searching what ships: measured int8 latency as a ceiling and an
objective, and the int8 file's PSNR as a candidate's score."""

import dataclasses
import json
import os

import numpy as np
import pytest

from test_search import tiny_config
from tfsr.arch import ArchSpec
from tfsr.evaluation import evaluate
from tfsr.inference import TFLiteUpscaler
from tfsr.latency import MeasuredLatency
from tfsr.search.report import write_report
from tfsr.search.run import make_tuner

SMALL = (64, 96)  # LR height, width: quick to measure


def plain(width, depth, activation="relu"):
    return ArchSpec.from_dict({
        "name": f"plain_{width}x{depth}", "scale": 2, "channels": 1,
        "stem": {"filters": width, "kernel": 3, "activation": activation},
        "cells": [{"block": "conv", "channels": width, "kernel": 3, "repeats": depth, "activation": activation}],
        "upsampler": {"type": "subpixel", "kernel": 3, "global_skip": "anchor"},
    })  # fmt: skip


def test_measured_latency_orders_specs_and_measures_each_once():
    latency = MeasuredLatency(SMALL, runs=9)
    small, large = plain(8, 2), plain(48, 6)  # 64 times the mult-adds of the first's body
    t_small, t_large = latency(small), latency(large)
    assert 0 < t_small < t_large
    assert set(latency.cache) == {str(small.fingerprint()), str(large.fingerprint())}
    # A second call, or a spec equal to one measured, reads the cache.
    latency.cache[str(small.fingerprint())] = -1.0
    assert latency(ArchSpec.from_dict(small.to_dict())) == -1.0


def test_a_latency_objective_search_reports_ms_and_a_ceiling_rejects_before_training(tmp_path):
    cfg = tiny_config(max_trials=4, population_size=2, objective="latency", lr_size=f"{SMALL[1]}x{SMALL[0]}")
    tuner = make_tuner(cfg, str(tmp_path))
    tuner.search()
    oracle = tuner.oracle
    completed = oracle.completed()
    assert len(completed) == 4
    objs, _ = oracle.objectives(completed)
    assert objs.shape == (4, 2)  # -PSNR and ms
    assert objs[:, 1].tolist() == [oracle.latency.cache[str(oracle.spec_of(t).fingerprint())] for t in completed]
    rows = write_report(oracle, str(tmp_path))
    assert rows and all("latency_ms" in r for r in rows)
    assert [r["latency_ms"] for r in rows] == sorted(r["latency_ms"] for r in rows)
    saved = json.loads((tmp_path / "pareto.json").read_text())["front"]
    assert [r["latency_ms"] for r in saved] == [r["latency_ms"] for r in rows]
    # The measurements are kept in the oracle's state: a resumed search measures nothing again.
    again = make_tuner(cfg, str(tmp_path)).oracle
    assert set(again.latency.cache) >= {str(oracle.spec_of(t).fingerprint()) for t in completed}
    # A ceiling between two specs' measured times admits the faster one only, before any training.
    small, large = plain(8, 1), plain(48, 6)
    oracle.max_latency_ms = (oracle.latency(small) + oracle.latency(large)) / 2
    assert oracle._feasible(small) and not oracle._feasible(large)
    assert "1 candidates over the" in oracle.front_summary([])


def test_int8_score_is_the_int8_files_psnr(tmp_path):
    cfg = tiny_config(max_trials=1, population_size=1, score="int8")
    tuner = make_tuner(cfg, str(tmp_path))
    tuner.search()
    for trial in tuner.oracle.completed():
        path = tmp_path / "search" / f"trial_{trial.trial_id}" / "model_int8.tflite"
        spec = ArchSpec.load(str(path.parent / "spec.json"))
        int8 = evaluate(TFLiteUpscaler(str(path)), tuner.val_pairs, spec.scale)["mean"]["psnr"]
        assert trial.score == pytest.approx(int8, abs=1e-6)
        float_psnr = trial.metrics.get_last_value("psnr_float")
        assert np.isfinite(float_psnr) and float_psnr != trial.score
        assert abs(float_psnr - trial.score) < 1.5  # int8 tracks the float model


def test_an_int8_file_that_cannot_run_fails_the_trial_and_is_not_exported(tmp_path):
    """A dead layer (ReLU of a very negative bias: all zeros on the calibration
    patches) gets an empty int8 range, and XNNPACK refuses the conv into it."""
    import keras_tuner

    from tfsr.arch import build_model
    from tfsr.errors import UserError
    from tfsr.export.exporter import export

    tuner = make_tuner(tiny_config(max_trials=1, population_size=1, score="int8"), str(tmp_path / "s"))
    spec = plain(8, 3)
    model = build_model(spec)
    assert np.isfinite(tuner._int8_psnr(model, spec, str(tmp_path / "alive")))
    layer = model.get_layer("cell1_r2_conv")
    kernel, bias = layer.get_weights()
    # Large weights (a large kernel scale) into an empty range: the ratio XNNPACK checks overflows.
    layer.set_weights([np.full_like(kernel, 0.5), np.full_like(bias, -1000.0)])
    with pytest.raises(keras_tuner.errors.FailedTrialError, match="int8 file does not run"):
        tuner._int8_psnr(model, spec, str(tmp_path / "dead"))
    assert not (tmp_path / "dead" / "model_int8.tflite").exists()
    out = tmp_path / "dead.tflite"
    with pytest.raises(UserError, match="not written: ai-edge-litert cannot run the int8 file"):
        export(model, spec, "tflite", str(out), quantize="int8", train_data=tuner.train_data,
               representative_samples=8, calibration="minmax", log=lambda m: None)  # fmt: skip
    assert not out.exists() and not os.path.exists(str(out) + ".tmp")


def test_bad_latency_settings_are_user_errors(tmp_path):
    from tfsr.errors import UserError

    for bad in ({"objective": "speed"}, {"score": "int4"}, {"max_latency_ms": -1.0}):
        with pytest.raises(UserError, match="search\\."):
            make_tuner(tiny_config(**bad), str(tmp_path / "x"))


def test_features_price_prelu_apart_and_relu_fused():
    from tfsr.latency_profile import FEATURES, features

    relu, prelu = features(plain(16, 3), SMALL), features(plain(16, 3, "prelu"), SMALL)
    i = {name: k for k, name in enumerate(FEATURES)}
    assert relu[i["prelu"]] == 0 and relu[i["act_other"]] == 0  # relu runs fused into its conv
    # The int8 file splits these PReLUs into ReLUs on twice the channels (fused too): the
    # stem's conv writes 32 channels, the 3 cells' and the tail's read them, the cells' write 32.
    assert prelu[i["prelu"]] == 0 and prelu[i["act_other"]] == 0
    pixels = SMALL[0] * SMALL[1] / 1e9
    assert relu[i["conv_kxk"]] == pytest.approx(9 * (16 + 3 * 16 * 16 + 16 * 4) * pixels)
    # Every conv also pays per output pixel, whatever its width: stem, 3 cells, tail.
    assert relu[i["conv_pixels"]] == prelu[i["conv_pixels"]] == pytest.approx(5 * 1e3 * pixels)
    assert features(plain(48, 3), SMALL)[i["conv_pixels"]] == relu[i["conv_pixels"]]
    # Convs reading more than WIDE channels are priced apart: split, 48 PReLU channels become 96.
    wide = features(plain(48, 3, "prelu"), SMALL)
    assert wide[i["conv_kxk"]] == pytest.approx(9 * 96 * pixels)  # the stem reads the image
    assert wide[i["conv_wide"]] == pytest.approx(9 * (3 * 96 * 96 + 96 * 4) * pixels)
    assert prelu[i["conv_kxk"]] == pytest.approx(9 * (32 + 3 * 32 * 32 + 32 * 4) * pixels)
    # A residual add read by a conv becomes a concat of the two split PReLUs it sums (2 x 32 channels).
    megapixels = SMALL[0] * SMALL[1] / 1e6
    residual = plain(16, 3, "prelu")
    residual.cells[0].residual = True
    f = features(residual, SMALL)
    assert f[i["prelu"]] == 0 and f[i["concat"]] - prelu[i["concat"]] == pytest.approx(64 * megapixels)
    # A PReLU read by an add that another add reads stays one, priced per output element: here
    # the stem's, the first cell's and the second's; the third cell's feeds the tail conv alone.
    chained = plain(16, 1, "prelu")
    chained.cells = [dataclasses.replace(chained.cells[0], residual=r) for r in (True, True, False)]
    assert features(chained, SMALL)[i["prelu"]] == pytest.approx(3 * 16 * megapixels)


def test_nonnegative_fit_recovers_known_coefficients():
    from tfsr.latency_profile import fit_nonnegative, spearman

    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(40), rng.random((40, 3))])
    truth = np.array([1.0, 5.0, 0.0, 2.0])
    y = x @ truth
    assert np.allclose(fit_nonnegative(x, y, 1 / y), truth, atol=1e-8)
    y_noisy = y - 3.0 * x[:, 2]  # a negative effect is clipped to zero, the rest stay >= 0
    c = fit_nonnegative(x, y_noisy, np.ones(40))
    assert (c >= 0).all() and c[2] == 0
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)


def test_a_profile_of_the_previous_feature_set_is_refitted_on_load(tmp_path):
    """Version-2 profiles measured the same int8 files without `conv_pixels`: their
    measurements still hold, so loading refits them instead of refusing them."""
    import json

    from tfsr.latency_profile import FEATURES, LatencyProfile, features

    specs = [plain(w, d) for w in (8, 16, 32) for d in (2, 4, 6)]
    truth = dict.fromkeys(FEATURES, 0.0)
    truth.update(const=2.0, conv_pixels=30.0, conv_kxk=4.0)
    models = [{"name": s.name, "spec": s.to_dict(), "ms": float(features(s, SMALL) @ [truth[f] for f in FEATURES])}
              for s in specs]  # fmt: skip
    old = {"version": 2, "features": [f for f in FEATURES if f != "conv_pixels"], "lr_size": list(SMALL),
           "threads": 1, "device": {"cpu": "made up"}, "models": models, "coefficients": [1.0] * (len(FEATURES) - 1)}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(old))
    profile = LatencyProfile.load(str(path))
    assert len(profile.coefficients) == len(FEATURES)
    assert profile.predict(plain(24, 3)) == pytest.approx(float(features(plain(24, 3), SMALL) @ [truth[f] for f in FEATURES]), rel=1e-6)
    path.write_text(json.dumps({**old, "version": 1}))
    with pytest.raises(ValueError, match="stale"):
        LatencyProfile.load(str(path))


def demo_space():
    from tfsr.config import demo_search_config
    from tfsr.search.run import make_space

    return make_space(demo_search_config())


# What tfsr-profile measures besides --models random specs of configs/demo.py's space.
from tfsr.latency_profile import REFERENCES as PROFILED_REFERENCES  # noqa: E402

DEMO_CORNERS = len(demo_space().corners())


def test_profile_tool_resumes_refuses_other_settings_and_drives_the_search(tmp_path):
    from conftest import run_tool

    from tfsr.latency_profile import LatencyProfile, PredictedLatency

    out = tmp_path / "profile.json"
    common = ["--config=configs/demo.py", "--lr_size=48x32", "--runs=3", f"--out={out}"]
    first = run_tool("profile", "--models=3", *common)
    assert first.returncode == 0, first.stderr[-2000:]
    n = len(PROFILED_REFERENCES) + DEMO_CORNERS + 3
    assert f"[profile] {n}/{n}" in first.stdout and "Spearman" in first.stdout
    profile = LatencyProfile.load(str(out))
    assert len(profile.models) == n and profile.lr_size == (32, 48) and profile.threads == 1
    assert {m["name"] for m in profile.models} >= {c.name for c in demo_space().corners()}
    assert all(c >= 0 for c in profile.coefficients) and profile.device["cores"] >= 1
    more = run_tool("profile", "--models=4", *common)
    assert more.returncode == 0 and "resuming" in more.stdout and f"[profile] {n + 1}/{n + 1}" in more.stdout
    assert "[profile] 1/" not in more.stdout
    assert [m["name"] for m in LatencyProfile.load(str(out)).models][-1] == "random_003"
    other = run_tool("profile", "--models=4", "--threads=2", *common)
    assert other.returncode == 2 and "choose another file" in other.stderr and "Traceback" not in other.stderr
    # The search predicts from the profile instead of converting each candidate.
    cfg = tiny_config(objective="latency", device_profile=str(out), lr_size="48x32")
    oracle = make_tuner(cfg, str(tmp_path / "search")).oracle
    assert isinstance(oracle.latency, PredictedLatency)
    spec = plain(16, 2, "prelu")
    assert oracle.latency(spec) == pytest.approx(LatencyProfile.load(str(out)).predict(spec)) and oracle.latency(spec) > 0
    from tfsr.errors import UserError

    with pytest.raises(UserError, match="device_profile"):
        make_tuner(tiny_config(objective="latency", device_profile=str(out)), str(tmp_path / "other"))


def test_profile_for_another_device_exports_times_there_and_fits_here(tmp_path):
    """The device side is tfsr/device_timer.py alone (a copy, run by path)."""
    import shutil
    import subprocess
    import sys

    from conftest import ROOT, run_tool

    from tfsr.latency_profile import LatencyProfile

    out = tmp_path / "phone.json"
    common = ["--config=configs/demo.py", "--models=2", "--lr_size=48x32", f"--out={out}"]
    exported = run_tool("profile", "--export_only", *common)
    assert exported.returncode == 0, exported.stderr[-2000:]
    models = tmp_path / "phone.json.models"
    assert len(list(models.glob("*.tflite"))) == len(PROFILED_REFERENCES) + DEMO_CORNERS + 2
    assert "device_timer.py" in exported.stdout
    device = tmp_path / "device"
    device.mkdir()
    shutil.copy(f"{ROOT}/tfsr/device_timer.py", device)
    timed = subprocess.run([sys.executable, "device_timer.py", str(models), "--lr_size=48x32", "--runs=3",
                            "--out=times.json"], cwd=device, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert timed.returncode == 0, timed.stderr[-2000:]
    fitted = run_tool("profile", f"--times={device / 'times.json'}", *common)
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    profile = LatencyProfile.load(str(out))
    times = json.loads((device / "times.json").read_text())["times"]
    assert [m["ms"] for m in profile.models] == [times[f"{i:03d}.tflite"] for i in range(len(profile.models))]
    assert profile.coefficients and profile.device["runtime"].startswith("ai-edge-litert")
    wrong = run_tool("profile", f"--times={device / 'times.json'}", "--threads=4", "--config=configs/demo.py",
                     "--models=2", "--lr_size=48x32", f"--out={tmp_path / 'other.json'}")  # fmt: skip
    assert wrong.returncode == 2 and "--times" in wrong.stderr
