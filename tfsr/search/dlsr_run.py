"""Running DLSR's search as a resumable job (what tfsr-search-dlsr does).

    WORKDIR/checkpoint.npz   after each finished round, in one file written
                             atomically: the supernet's weights, both
                             optimizers' variables (Adam's moments and step
                             counts) and the state below
    WORKDIR/state.json       weight steps done, alpha/beta per round (a copy
                             for people and plots)
    WORKDIR/alpha.png        softmax(alpha) per distillation step, chosen op boxed
    WORKDIR/links.png        softmax(beta) per block, kept inputs boxed
    WORKDIR/spec.json        the derived ArchSpec (tfsr-train --arch=...)

A killed run resumes from its last round: weights, optimizers, alpha and
beta from the checkpoint, the patch streams from their step.
"""

import json
import os

import numpy as np


def save_checkpoint(path, model, optimizers, state):
    """Writes `path` (.npz) atomically: a kill leaves the old file or the new one."""
    from tfsr.search.dlsr_supernet import optimizer_state

    arrays = {f"model_{i}": w for i, w in enumerate(model.get_weights())}
    for key, values in optimizer_state(model, optimizers).items():
        arrays.update({f"{key}_opt_{i}": v for i, v in enumerate(values)})
    arrays["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_checkpoint(path, model, optimizers):
    """Loads what `save_checkpoint` wrote into `model` and `optimizers`; returns the state."""
    from tfsr.search.dlsr_supernet import restore_optimizers

    with np.load(path) as f:
        def numbered(prefix):
            return [f[f"{prefix}{i}"] for i in range(sum(k.startswith(prefix) for k in f.files))]

        model.set_weights(numbered("model_"))
        restore_optimizers(model, optimizers, {"weights": numbered("weights_opt_"), "arch": numbered("arch_opt_")})
        return json.loads(f["state"].tobytes().decode())


def latency_cost(space, profile_path):
    """The cost term as the int8 ms a `tfsr-profile` file predicts (at its LR size and threads)."""
    from tfsr.errors import UserError
    from tfsr.latency_profile import LatencyProfile, PredictedLatency
    from tfsr.search.dlsr import ExpectedCost

    try:
        profile = LatencyProfile.load(profile_path)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(f"config.dlsr.device_profile={profile_path}: not a readable tfsr profile ({e})") from None
    height, width = profile.lr_size
    return ExpectedCost(space, cost_of=PredictedLatency(profile), unit=1.0,
                        unit_name=f"ms (int8, {width}x{height}, {profile.threads} thread(s), {profile_path})")  # fmt: skip


def run_dlsr_search(cfg, workdir, log=print):
    """Runs (or resumes) the search `cfg.dlsr` describes; returns the derived spec."""
    import keras

    from tfsr import samples
    from tfsr.arch import count
    from tfsr.data.pipeline import PatchDataset
    from tfsr.errors import UserError
    from tfsr.search.dlsr import DlsrSpace, ExpectedCost, derive_within
    from tfsr.search.dlsr_report import plot_alpha, plot_links
    from tfsr.search.dlsr_supernet import build_supernet, make_optimizers, search

    d = cfg.dlsr
    space = DlsrSpace(scale=cfg.scale, channels=1 if cfg.color == "y" else 3, nf=d.nf, blocks=d.blocks,
                      steps=d.steps, candidates=tuple(d.candidates), activation=d.activation, esa=d.esa)  # fmt: skip
    ceiling, lr_size = d.max_mult_adds * 1e9, (360, 640)
    expected_cost = ExpectedCost(space, lr_size)  # the cost term: G mult-adds at 640x360
    if d.get("device_profile"):
        expected_cost = latency_cost(space, d.device_profile)
        if ceiling:
            raise UserError("config.dlsr.max_mult_adds is a mult-adds ceiling; with config.dlsr.device_profile the "
                            "cost term counts ms: set one of them")  # fmt: skip
    if ceiling:  # fail now, not after the search, when no choice of ops fits
        try:
            derive_within(space, np.zeros(space.alpha_shape), None, ceiling, lr_size)
        except ValueError as e:
            raise UserError(f"config.dlsr.max_mult_adds: {e}") from None
    color = "y" if space.channels == 1 else "rgb"
    weights_data = PatchDataset(cfg.train_data or samples.TRAIN_DIR, cfg.scale, d.patch_size, d.batch_size,
                                color=color, seed=d.seed)  # fmt: skip
    arch_data = PatchDataset(cfg.arch_data or samples.VAL_DIR, cfg.scale, d.patch_size, d.batch_size, color=color,
                             seed=d.seed + 1)  # fmt: skip
    os.makedirs(workdir, exist_ok=True)
    checkpoint_path, state_path = os.path.join(workdir, "checkpoint.npz"), os.path.join(workdir, "state.json")
    keras.utils.set_random_seed(d.seed)
    model = build_supernet(space, d.patch_size, expected_cost)
    optimizers = make_optimizers(d.weight_lr, d.arch_lr)
    state = {"done": 0, "rounds": []}
    if os.path.exists(checkpoint_path):
        state = load_checkpoint(checkpoint_path, model, optimizers)
        log(f"resuming the DLSR search at step {state['done']} of {d.search_steps}")

    def checkpoint(model, optimizers, done):
        state["done"] = done
        state["rounds"].append({"step": done, "alpha": np.asarray(model.alpha).tolist(),
                                "betas": [np.asarray(b).tolist() for b in model.betas]})  # fmt: skip
        save_checkpoint(checkpoint_path, model, optimizers, state)
        with open(state_path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(state_path + ".tmp", state_path)
        plot_alpha(space, model.alpha, os.path.join(workdir, "alpha.png"),
                   f"softmax(alpha) at step {done}, chosen op boxed")  # fmt: skip
        plot_links(space, model.betas, os.path.join(workdir, "links.png"),
                   f"softmax(beta) at step {done}, kept inputs boxed")  # fmt: skip

    start = state["done"]
    log(f"DLSR search: supernet nf={d.nf}, {d.blocks} blocks, {len(space.candidates)} candidate ops, "
        f"{d.search_steps} steps, penalty {d.penalty_weight}/{expected_cost.unit_name}"
        + (f" above {d.max_mult_adds}G" if ceiling else "")
        + f"; {len(weights_data)} weight images, {len(arch_data)} architecture images")  # fmt: skip
    model = search(space, weights_data.dataset(start=start), arch_data.dataset(start=max(0, start - d.warmup)),
                   d.search_steps, d.penalty_weight, d.phase_steps, d.warmup, d.weight_lr, d.arch_lr,
                   d.patch_size, model=model, optimizers=optimizers, start=start, on_round=checkpoint,
                   max_mult_adds=ceiling, log=log)  # fmt: skip
    name, betas = f"dlsr_x{cfg.scale}", [np.asarray(b) for b in model.betas]
    spec = derive_within(space, model.alpha, betas, ceiling, lr_size, name) if ceiling else model.derive(name)
    spec.save(os.path.join(workdir, "spec.json"))
    cost = count(spec, lr_size)
    log(f"derived: ops {spec.cells[0].options['op']}; {cost.params:,} params, {cost.mult_adds / 1e9:.2f}G "
        f"mult-adds at 640x360 -> {os.path.join(workdir, 'spec.json')} (tfsr-train --arch=...); "
        f"pictures: alpha.png, links.png")  # fmt: skip
    return spec
