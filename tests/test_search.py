"""End-to-end searches on the bundled images, with tiny budgets."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_tool
from tfsr import samples
from tfsr.config import demo_search_config
from tfsr.data.evalsets import load_eval_set
from tfsr.evaluation import evaluate
from tfsr.inference import BicubicUpscaler
from tfsr.search.run import make_tuner

TINY = [
    "--config=configs/demo.py",
    "--config.search.max_trials=6",
    "--config.search.population_size=3",
    "--config.proxy.steps=15",
    "--config.proxy.batch_size=4",
    "--config.proxy.patch_size=12",
    "--config.space.max_cells=3",
]


def tiny_config(**search):
    cfg = demo_search_config()
    cfg.search.update({"max_trials": 6, "population_size": 3, **search})
    cfg.proxy.update(dict(steps=15, batch_size=4, patch_size=12))
    cfg.space.update(dict(max_cells=3))
    return cfg


def trials_on_disk(workdir):
    base = os.path.join(workdir, "search")
    out = {}
    for name in os.listdir(base):
        if name.startswith("trial_"):
            with open(os.path.join(base, name, "trial.json")) as f:
                t = json.load(f)
            out[t["trial_id"]] = t
    return out


def test_tiny_search_respects_constraints_and_resumes_its_state(tmp_path):
    cfg = tiny_config(max_mult_adds=1.5e9, min_psnr=20.0)
    tuner = make_tuner(cfg, str(tmp_path))
    tuner.search()
    oracle = tuner.oracle
    completed = oracle.completed()
    assert len(completed) == 6
    # Cost ceilings are enforced before training: nothing over 1.5G ran.
    assert all(oracle.cost_of(t).mult_adds <= 1.5e9 for t in completed)
    front = oracle.pareto_front()
    assert front
    for t in front:  # nothing feasible dominates a front member
        for u in completed:
            better = u.score >= t.score and oracle.cost_of(u).mult_adds <= oracle.cost_of(t).mult_adds
            strictly = u.score > t.score or oracle.cost_of(u).mult_adds < oracle.cost_of(t).mult_adds
            assert not (better and strictly and oracle.cost_of(u).params <= oracle.cost_of(t).params) or u is t
    # Children after the first population were bred, not sampled.
    assert any(o != "random" for o in oracle.origins.values())
    # The saved oracle state restores RNG, policy and history exactly.
    rng_state = oracle.rng.bit_generator.state
    again = make_tuner(cfg, str(tmp_path)).oracle
    assert again.rng.bit_generator.state == rng_state
    assert again.policy.get_state() == oracle.policy.get_state()
    assert again.origins == oracle.origins and len(again.completed()) == 6


def test_time_budget_stops_new_trials_and_counts_across_resumes(tmp_path):
    tuner = make_tuner(tiny_config(max_trials=2, population_size=2), str(tmp_path))
    tuner.search()
    spent = tuner.oracle.time_spent()
    assert len(tuner.oracle.trial_seconds) == 2 and spent > 0
    # Resumed with more trials allowed but a budget already spent: nothing new runs.
    cfg = tiny_config(max_trials=6, population_size=2, time_budget=spent * 0.99)
    resumed = make_tuner(cfg, str(tmp_path))
    assert resumed.oracle.time_spent() == pytest.approx(spent)
    resumed.search()
    assert len(resumed.oracle.completed()) == 2
    # With room for about one more trial, the search goes on, then stops.
    cfg.search.time_budget = spent * 1.2
    more = make_tuner(cfg, str(tmp_path))
    more.search()
    assert 3 <= len(more.oracle.completed()) < 6


def test_search_cli_writes_front_and_resumes_after_sigkill(tmp_path):
    workdir = tmp_path / "run"
    args = [*TINY, f"--workdir={workdir}"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfsr.cli.search", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.time() + 240
    killed_during = None
    while time.time() < deadline:
        time.sleep(0.3)
        if not (workdir / "search").exists():
            continue
        trials = trials_on_disk(str(workdir))
        done = [t for t in trials.values() if t["status"] == "COMPLETED"]
        running = [t for t in trials.values() if t["status"] == "RUNNING"]
        if len(done) >= 2 and running:
            proc.send_signal(signal.SIGKILL)
            killed_during = running[0]["trial_id"]
            done_before_kill = {t["trial_id"] for t in trials_on_disk(str(workdir)).values() if t["status"] == "COMPLETED"}
            break
    proc.wait()
    assert killed_during is not None, "the search never reached a running trial after two completed ones"

    result = run_tool("search", *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    trials = trials_on_disk(str(workdir))
    assert sorted(trials) == [f"{i}" for i in range(6)]  # no extra trial ids
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    # The killed trial was re-run, the others were not retrained.
    assert f"trial {killed_during}: proxy training" in result.stdout
    retrained = {line.split("trial ")[1].split(":")[0] for line in result.stdout.splitlines() if ": proxy training" in line}
    assert not retrained & done_before_kill
    assert retrained | done_before_kill == set(trials)
    report = json.loads((workdir / "pareto.json").read_text())
    assert report["trials"] == 6 and report["front"]
    # The bicubic level drawn on pareto.png: the bundled validation images' bicubic PSNR.
    val = load_eval_set(samples.VAL_DIR, 2)
    assert report["bicubic_psnr"] == pytest.approx(evaluate(BicubicUpscaler(2), val, 2)["mean"]["psnr"], abs=1e-6)
    for row in report["front"]:
        assert set(row) == {"trial_id", "spec", "psnr", "params", "mult_adds"}
    assert (workdir / "pareto.png").stat().st_size > 10_000
    tops = os.listdir(workdir / "top")
    assert 1 <= len(tops) <= 3
    cost = run_tool("cost", f"--arch={workdir / 'top' / sorted(tops)[0]}", "--lr_size=480x480")
    assert cost.returncode == 0 and json.loads(cost.stdout)["mult_adds"] <= 3.0e9


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(role, workdir, port, log, extra=()):
    env = {
        **os.environ,
        "KERASTUNER_TUNER_ID": role,
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tfsr.cli.search", *TINY, f"--workdir={workdir}", *extra],
        cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _ran(log):
    text = open(log).read()
    return [line.split("trial ")[1].split(":")[0] for line in text.splitlines() if ": proxy training" in line]


def test_distributed_chief_and_workers_with_one_killed(tmp_path):
    """Two workers share the trials; one is SIGKILLed mid-trial and the other finishes that trial.
    Every other trial runs exactly once (a run without the kill would show nothing more)."""
    workdir, port = tmp_path / "run", _free_port()
    extra = ["--config.search.worker_timeout=8"]
    logs = {r: tmp_path / f"{r}.log" for r in ("chief", "worker0", "worker1")}
    procs = {"chief": _start("chief", workdir, port, logs["chief"], extra)}
    time.sleep(4)  # let the chief open its port
    for w in ("worker0", "worker1"):
        procs[w] = _start(w, workdir, port, logs[w], extra)
    killed_trial = None
    deadline = time.time() + 200
    while time.time() < deadline and not killed_trial:
        ran = _ran(logs["worker1"])
        if ran:
            time.sleep(0.5)  # well inside that trial's training
            procs["worker1"].send_signal(signal.SIGKILL)
            killed_trial = ran[-1]
        time.sleep(0.2)
    assert killed_trial, "worker1 never started a trial"
    try:
        assert procs["chief"].wait(timeout=300) == 0, open(logs["chief"]).read()[-3000:]
        assert procs["worker0"].wait(timeout=60) == 0, open(logs["worker0"]).read()[-3000:]
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
    trials = trials_on_disk(str(workdir))
    assert sorted(trials) == [f"{i}" for i in range(6)]
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    ran0, ran1 = _ran(logs["worker0"]), _ran(logs["worker1"])
    assert killed_trial in ran0  # the reclaimed trial was finished by worker0
    assert sorted(ran0 + [t for t in ran1 if t != killed_trial]) == sorted(trials)
    assert json.loads((workdir / "pareto.json").read_text())["trials"] == 6


def test_a_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(tmp_path, monkeypatch):
    import keras

    import tfsr.search.tuner as tuner_module

    real_build = tuner_module.build_model

    def build_with_nan_for_trial_1(spec):
        model = real_build(spec)
        if spec.name == "trial_1":  # poison one candidate: NaN outputs -> NaN loss
            out = keras.layers.Rescaling(float("nan"))(model.outputs[0])
            model = keras.Model(model.inputs, out)
        return model

    monkeypatch.setattr(tuner_module, "build_model", build_with_nan_for_trial_1)
    tuner = make_tuner(tiny_config(max_trials=4), str(tmp_path))
    tuner.search()
    status = {t.trial_id: t.status for t in tuner.oracle.trials.values()}
    assert status == {"0": "COMPLETED", "1": "FAILED", "2": "COMPLETED", "3": "COMPLETED"}
    assert "NaN" in tuner.oracle.trials["1"].message
    assert all(t.trial_id != "1" for t in tuner.oracle.pareto_front())


def test_the_proxy_trains_with_its_configs_recipe_and_scores_the_averaged_weights(tmp_path, monkeypatch):
    """config.proxy's schedule, loss and EMA are what the proxy runs (once it
    ran a constant-rate Adam on L1 whatever the config said), and the score
    is the PSNR of the weights tfsr-train would save: the averaged ones."""
    import keras

    import tfsr.search.tuner as tuner_module
    from tfsr.arch import zoo
    from tfsr.inference import KerasUpscaler
    from tfsr.train.recipe import Charbonnier, averaged_weights

    built = []
    real_build = tuner_module.build_model
    monkeypatch.setattr(tuner_module, "build_model", lambda spec: built.append(real_build(spec)) or built[-1])
    cfg = tiny_config()
    cfg.proxy.update(dict(schedule="cosine", ema=0.9, loss="charbonnier"))
    tuner = make_tuner(cfg, str(tmp_path))
    spec = zoo.ecbsr(m=1, c=8)
    score = tuner.score_spec(spec, None)["psnr"]

    model = built[0]
    schedule = model.optimizer._learning_rate  # (the public attribute is the current rate)
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.decay_steps == cfg.proxy.steps
    assert float(schedule(cfg.proxy.steps)) == pytest.approx(cfg.proxy.learning_rate * cfg.proxy.final_lr_fraction)
    assert isinstance(model.loss, Charbonnier)
    raw = evaluate(KerasUpscaler(model, scale=2), tuner.val_pairs, 2)["mean"]["psnr"]
    with averaged_weights(model):
        averaged = evaluate(KerasUpscaler(model, scale=2), tuner.val_pairs, 2)["mean"]["psnr"]
    assert score == pytest.approx(averaged, abs=1e-9) and abs(averaged - raw) > 1e-4
    # Deterministic: the same spec scores the same again.
    assert tuner.score_spec(spec, None)["psnr"] == pytest.approx(score, abs=1e-6)


def test_proxy_seeds_average_that_many_independent_proxy_trainings(tmp_path):
    from tfsr.arch import zoo

    spec = zoo.ecbsr(m=1, c=8)
    single = {}
    for seed in (3, 4):
        cfg = tiny_config()
        cfg.proxy.seed = seed
        single[seed] = make_tuner(cfg, str(tmp_path / f"seed{seed}")).score_spec(spec, None)["psnr"]
    assert abs(single[3] - single[4]) > 1e-4  # the seed changes the patches and the initialization
    cfg = tiny_config()
    cfg.proxy.update(seed=3, seeds=2)
    averaged = make_tuner(cfg, str(tmp_path / "both")).score_spec(spec, None)
    assert averaged["psnr"] == pytest.approx((single[3] + single[4]) / 2, abs=1e-6)
    assert set(averaged) == {"psnr", "mult_adds", "params"}


def test_a_cost_band_keeps_every_proposal_between_floor_and_ceiling(tmp_path):
    import keras_tuner

    from tfsr.arch import count
    from tfsr.errors import UserError

    low, high = 0.6e9, 1.2e9
    oracle = make_tuner(tiny_config(min_mult_adds=low, max_mult_adds=high), str(tmp_path)).oracle
    # Random samples: feasible exactly when inside the band (both sides occur).
    inside = []
    for _ in range(60):
        spec = oracle.space.sample(oracle.rng)
        cost = count(spec, oracle.lr_size).mult_adds
        assert oracle._feasible(spec) == (low <= cost <= high)
        inside.append(low <= cost <= high)
    assert any(inside) and not all(inside)
    # What the oracle proposes lies in the band.
    for _ in range(5):
        proposal = oracle.propose_initial()
        hp = keras_tuner.HyperParameters()
        oracle.hypermodel.spec_from_hp(hp)
        hp.values.update(proposal.values)
        assert low <= count(oracle.hypermodel.spec_from_hp(hp), oracle.lr_size).mult_adds <= high
    with pytest.raises(UserError, match="min_mult_adds"):
        make_tuner(tiny_config(min_mult_adds=high, max_mult_adds=low), str(tmp_path / "bad"))
