"""Running DLSR's search as a resumable job (what tfsr-search-dlsr does).

    WORKDIR/supernet.weights.h5   the supernet after the last finished round
    WORKDIR/state.json            weight steps done, alpha/beta per round
    WORKDIR/spec.json             the derived ArchSpec (tfsr-train --arch=...)

A killed run resumes from its last round: weights, alpha and beta from the
checkpoint, the patch streams from their step (the optimizers' moments
start afresh).
"""

import json
import os

import numpy as np


def run_dlsr_search(cfg, workdir, log=print):
    """Runs (or resumes) the search `cfg.dlsr` describes; returns the derived spec."""
    import keras

    from tfsr import samples
    from tfsr.arch import count
    from tfsr.data.pipeline import PatchDataset
    from tfsr.search.dlsr import DlsrSpace
    from tfsr.search.dlsr_supernet import build_supernet, search

    d = cfg.dlsr
    space = DlsrSpace(scale=cfg.scale, channels=1 if cfg.color == "y" else 3, nf=d.nf, blocks=d.blocks,
                      steps=d.steps, candidates=tuple(d.candidates), activation=d.activation)  # fmt: skip
    color = "y" if space.channels == 1 else "rgb"
    weights_data = PatchDataset(cfg.train_data or samples.TRAIN_DIR, cfg.scale, d.patch_size, d.batch_size,
                                color=color, seed=d.seed)  # fmt: skip
    arch_data = PatchDataset(cfg.arch_data or samples.VAL_DIR, cfg.scale, d.patch_size, d.batch_size, color=color,
                             seed=d.seed + 1)  # fmt: skip
    os.makedirs(workdir, exist_ok=True)
    weights_path, state_path = os.path.join(workdir, "supernet.weights.h5"), os.path.join(workdir, "state.json")
    keras.utils.set_random_seed(d.seed)
    model = build_supernet(space, d.patch_size)
    state = {"done": 0, "rounds": []}
    if os.path.exists(state_path) and os.path.exists(weights_path):
        with open(state_path) as f:
            state = json.load(f)
        model.load_weights(weights_path)
        log(f"resuming the DLSR search at step {state['done']} of {d.search_steps}")

    def checkpoint(model, done):
        state["done"] = done
        state["rounds"].append({"step": done, "alpha": np.asarray(model.alpha).tolist(),
                                "betas": [np.asarray(b).tolist() for b in model.betas]})  # fmt: skip
        model.save_weights(weights_path + ".tmp.weights.h5")
        os.replace(weights_path + ".tmp.weights.h5", weights_path)
        with open(state_path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(state_path + ".tmp", state_path)

    start = state["done"]
    log(f"DLSR search: supernet nf={d.nf}, {d.blocks} blocks, {len(space.candidates)} candidate ops, "
        f"{d.search_steps} steps, penalty {d.penalty_weight}/G; {len(weights_data)} weight images, "
        f"{len(arch_data)} architecture images")  # fmt: skip
    model = search(space, weights_data.dataset(start=start), arch_data.dataset(start=max(0, start - d.warmup)),
                   d.search_steps, d.penalty_weight, d.phase_steps, d.warmup, d.weight_lr, d.arch_lr,
                   d.patch_size, model=model, start=start, on_round=checkpoint, log=log)  # fmt: skip
    spec = model.derive(name=f"dlsr_x{cfg.scale}")
    spec.save(os.path.join(workdir, "spec.json"))
    cost = count(spec, (360, 640))
    log(f"derived: ops {spec.cells[0].options['op']}; {cost.params:,} params, {cost.mult_adds / 1e9:.2f}G "
        f"mult-adds at 640x360 -> {os.path.join(workdir, 'spec.json')} (tfsr-train --arch=...)")  # fmt: skip
    return spec
