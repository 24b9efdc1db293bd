"""Wiring a search from a config: space, hypermodel, oracle, tuner.

`make_tuner(cfg, workdir)` is what `tfsr-search`, the demo, the tests and
the benchmark share.  The keras-tuner project lives in `workdir/search`;
running again with the same workdir resumes it.
"""

import os

import keras_tuner

from tfsr import samples
from tfsr.config import parse_size
from tfsr.data.evalsets import load_eval_set
from tfsr.data.pipeline import PatchDataset
from tfsr.errors import UserError
from tfsr.search.hypermodel import FalsrHyperModel
from tfsr.search.oracle import ParetoOracle
from tfsr.search.plain_space import PlainSpace
from tfsr.search.space import FalsrSpace
from tfsr.search.tpsr_space import TpsrSpace
from tfsr.search.tuner import ProxyTuner


# Node ops that keep a fixed width and so can be summed (sepconv: TPSR's separable convs).
TPSR_NODE_BLOCKS = ("conv", "sepconv", "dilated", "ecb", "collapsible")
TPSR_UPSAMPLERS = ("subpixel", "resize_conv", "progressive_resize_conv")


def make_space(cfg):
    """The search space `config.space` describes (`kind`: falsr | plain | tpsr)."""
    from tfsr.arch.registry import BLOCKS
    from tfsr.arch.spec import ACTIVATIONS, GLOBAL_SKIPS

    sp = cfg.space
    common = {"scale": cfg.scale, "channels": 1 if cfg.color == "y" else 3, "clip": bool(sp.clip)}
    for field, values, known in (("blocks", sp.blocks, BLOCKS), ("activations", sp.activations, ACTIVATIONS)):
        bad = [v for v in values if v not in known]
        if bad or not values:
            raise UserError(f"space.{field}: unknown or empty {bad or list(values)}; known: {sorted(known)}")
        common[field] = tuple(values)
    if "distill" in common["blocks"]:
        raise UserError("space.blocks: 'distill' refines its input in place (it needs an input of its own width); "
                        "it is the cell DLSR derives, not a gene of these spaces")  # fmt: skip
    if sp.kind == "plain":
        blocks = tuple(b for b in common["blocks"] if b in PlainSpace.blocks)
        if not blocks:
            raise UserError(f"space.blocks: the plain space takes {list(PlainSpace.blocks)}, got {list(sp.blocks)}")
        return PlainSpace(**{**common, "blocks": blocks})
    if sp.kind not in ("falsr", "tpsr"):
        raise UserError(f"space.kind must be 'falsr', 'plain' or 'tpsr', got {sp.kind!r}")
    if sp.min_cells < 1 or sp.max_cells < sp.min_cells:
        raise UserError(f"space: need 1 <= min_cells <= max_cells, got {sp.min_cells}, {sp.max_cells}")
    if sp.kind == "tpsr":
        bad = [b for b in common["blocks"] if b not in TPSR_NODE_BLOCKS]
        if bad:
            raise UserError(f"space.blocks: TPSR's nodes are {list(TPSR_NODE_BLOCKS)} (one width, summed), got {bad}")
        upsampler = sp.get("upsampler", "subpixel")
        if upsampler not in TPSR_UPSAMPLERS:
            raise UserError(f"space.upsampler must be one of {list(TPSR_UPSAMPLERS)}, got {upsampler!r}")
        return TpsrSpace(min_cells=sp.min_cells, max_cells=sp.max_cells, global_skip=sp.global_skip,
                         upsampler=upsampler, **common)  # fmt: skip
    if sp.global_skip not in GLOBAL_SKIPS:
        raise UserError(f"space.global_skip must be one of {GLOBAL_SKIPS}, got {sp.global_skip!r}")
    return FalsrSpace(min_cells=sp.min_cells, max_cells=sp.max_cells, global_skip=sp.global_skip, **common)


def _predicted_latency(path, lr_size, threads):
    """A `PredictedLatency` from the profile at `path`, made for `lr_size` and `threads`."""
    from tfsr.latency_profile import LatencyProfile, PredictedLatency

    try:
        profile = LatencyProfile.load(path)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"search.device_profile={path}: not a readable tfsr profile ({e})") from None
    if tuple(profile.lr_size) != tuple(lr_size) or profile.threads != threads:
        raise UserError(f"search.device_profile={path} was measured at {profile.lr_size[1]}x{profile.lr_size[0]}, "
                        f"{profile.threads} thread(s); the search counts {lr_size[1]}x{lr_size[0]}, {threads} "
                        "(set search.lr_size and search.latency_threads to match)")  # fmt: skip
    return PredictedLatency(profile)


def make_oracle(cfg, hypermodel, kind="pareto"):
    s = cfg.search
    if s.max_trials < 1 or s.population_size < 1:
        raise UserError("search.max_trials and search.population_size must be positive")
    if kind == "random":  # keras-tuner's own, for comparisons
        return keras_tuner.oracles.RandomSearchOracle(
            objective=keras_tuner.Objective("psnr", "max"), max_trials=s.max_trials, seed=s.seed + 1,
            max_consecutive_failed_trials=s.max_trials,
        )  # fmt: skip
    if s.objective not in ("mult_adds", "latency"):
        raise UserError(f"search.objective must be mult_adds or latency, got {s.objective!r}")
    if s.score not in ("float", "int8"):
        raise UserError(f"search.score must be float or int8, got {s.score!r}")
    if s.max_latency_ms < 0 or s.latency_threads < 1:
        raise UserError("search.max_latency_ms must be >= 0 and search.latency_threads >= 1")
    lr_size = parse_size(s.lr_size, "search.lr_size")
    latency = None
    if (s.objective == "latency" or s.max_latency_ms) and s.device_profile:
        latency = _predicted_latency(s.device_profile, lr_size, s.latency_threads)
    elif s.objective == "latency" or s.max_latency_ms:
        from tfsr.latency import MeasuredLatency

        latency = MeasuredLatency(lr_size, threads=s.latency_threads)
    try:
        return ParetoOracle(
            hypermodel,
            max_trials=s.max_trials,
            population_size=s.population_size,
            min_psnr=s.min_psnr or None,
            max_mult_adds=s.max_mult_adds or None,
            max_params=s.max_params or None,
            min_mult_adds=s.get("min_mult_adds", 0.0) or None,
            lr_size=lr_size,
            mutation_mix=dict(s.mutation_mix),
            crossover_probability=s.crossover_probability,
            initial_candidates=s.initial_candidates,
            latency=latency,
            max_latency_ms=s.max_latency_ms or None,
            cost_objective=s.objective,
            worker_timeout=s.worker_timeout,
            time_budget=s.time_budget,
            seed=s.seed,
        )
    except ValueError as e:
        raise UserError(f"search config: {e}") from None


def make_tuner(cfg, workdir, oracle_kind="pareto"):
    """A `ProxyTuner` over the config's space and data, resuming `workdir`."""
    hypermodel = FalsrHyperModel(make_space(cfg), learning_rate=cfg.proxy.learning_rate)
    oracle = make_oracle(cfg, hypermodel, oracle_kind)
    train = PatchDataset(
        cfg.train_data or samples.TRAIN_DIR,
        cfg.scale,
        patch_size=cfg.proxy.patch_size,
        batch_size=cfg.proxy.batch_size,
        color=cfg.color,
        seed=cfg.proxy.seed,
    )
    val = load_eval_set(cfg.val_data or samples.VAL_DIR, cfg.scale, limit=cfg.proxy.val_limit or None)
    os.makedirs(workdir, exist_ok=True)
    return ProxyTuner(
        hypermodel,
        oracle,
        train,
        val,
        cfg.proxy,
        lr_size=parse_size(cfg.search.lr_size, "search.lr_size"),
        score=cfg.search.score,
        directory=workdir,
        project_name="search",
        overwrite=False,
    )


def run_search(cfg, workdir):
    """Runs (or resumes) the search; returns the front rows, or None on a worker."""
    from keras_tuner.src.distribute import utils as dist_utils

    from tfsr.evaluation import evaluate
    from tfsr.inference import BicubicUpscaler
    from tfsr.search.report import format_front, write_report

    tuner = make_tuner(cfg, workdir)
    done = len(tuner.oracle.completed()) if hasattr(tuner.oracle, "completed") else 0
    role = os.environ.get("KERASTUNER_TUNER_ID", "local")
    print(f"search: {cfg.search.max_trials} trials, {done} already completed ({role}); workdir {workdir}", flush=True)
    tuner.search()
    if dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle():
        print(f"worker {role}: no trials left", flush=True)
        return None
    bicubic = evaluate(BicubicUpscaler(cfg.scale), tuner.val_pairs, cfg.scale)["mean"]["psnr"]
    rows = write_report(tuner.oracle, workdir, top_k=cfg.search.top_k, bicubic_psnr=bicubic)
    print("\nPareto front (feasible, non-dominated):")
    print(format_front(rows) if rows else "  (empty: no completed trial met the constraints)")
    print(f"\nfront plot: {os.path.join(workdir, 'pareto.png')}")
    print(f"front:      {os.path.join(workdir, 'pareto.json')}")
    print(f"top specs:  {os.path.join(workdir, 'top')}/ (tfsr-train --arch=FILE ...)")
    return rows
