"""Searching what ships: measured int8 latency as a ceiling and an
objective, and the int8 file's PSNR as a candidate's score."""

import json

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
    assert "1 candidates measured over" in oracle.front_summary([])


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


def test_bad_latency_settings_are_user_errors(tmp_path):
    from tfsr.errors import UserError

    for bad in ({"objective": "speed"}, {"score": "int4"}, {"max_latency_ms": -1.0}):
        with pytest.raises(UserError, match="search\\."):
            make_tuner(tiny_config(**bad), str(tmp_path / "x"))
