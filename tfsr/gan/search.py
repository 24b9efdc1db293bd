"""TPSR's discriminator search: for a fixed generator, which discriminator
trains it into the best perceptual model?

Each trial fine-tunes the (PSNR-trained) generator against the trial's
discriminator for a short budget (`GanTrainer`, resumable inside the trial
folder) and reports validation LPIPS (minimized) and PSNR (maximized).
`DiscriminatorOracle` ranks trials by Pareto dominance on those two through
the same `MultiObjectiveOracle` machinery as the generator search (NSGA-II,
resumable state, keras-tuner chief/worker with heartbeats).
"""

import json
import math
import os

import keras
import keras_tuner
import numpy as np

from tfsr.gan.discriminator import DiscriminatorSpec, build_discriminator
from tfsr.gan.trainer import GanTrainer
from tfsr.search.multi_objective import MultiObjectiveOracle, Proposal
from tfsr.search.tuner import PatientTuner
from tfsr.train import TrainingDiverged


class DiscriminatorOracle(MultiObjectiveOracle):
    """NSGA-II over discriminators: minimize LPIPS, maximize PSNR.

    Args:
        hypermodel: the `DiscriminatorHyperModel`.
        min_psnr: optional PSNR floor (dB); a trial under it is infeasible.
        crossover_probability: chance a child comes from crossover.
        Others as `MultiObjectiveOracle`.
    """

    def __init__(self, hypermodel, min_psnr=None, crossover_probability=0.5, **kwargs):
        super().__init__(objective=keras_tuner.Objective("lpips", "min"), **kwargs)
        self.hypermodel, self.space = hypermodel, hypermodel.space
        self.min_psnr = min_psnr
        self.crossover_probability = crossover_probability

    def spec_of(self, trial):
        return self.hypermodel.spec_from_hp(trial.hyperparameters.copy())

    @staticmethod
    def psnr_of(trial):
        return trial.metrics.get_last_value("psnr")

    def objectives(self, trials):
        objs = np.asarray([[t.score, -self.psnr_of(t)] for t in trials], float)
        viols = np.asarray(
            [max(0.0, (self.min_psnr - self.psnr_of(t)) / self.min_psnr) if self.min_psnr else 0.0 for t in trials]
        )
        return objs, viols

    def front_order(self, trial):
        return trial.score

    def propose_initial(self):
        return Proposal(self.hypermodel.values_from_spec(self.space.sample(self.rng)), "random")

    def propose_child(self, population, rank, crowd):
        spec = self.spec_of(self.tournament(population, rank, crowd))
        how = []
        if len(population) > 1 and self.rng.random() < self.crossover_probability:
            spec = self.space.crossover(spec, self.spec_of(self.tournament(population, rank, crowd)), self.rng)
            how.append("crossover")
        spec = self.space.mutate(spec, self.rng)
        how.append("mutate")
        return Proposal(self.hypermodel.values_from_spec(spec), "+".join(how))

    def describe(self, trial):
        return f"LPIPS {trial.score:.4f}, PSNR {self.psnr_of(trial):.2f} dB"

    def front_summary(self, front):
        best = min((t.score for t in front), default=None)
        return f"front {len(front)}, best LPIPS {'-' if best is None else f'{best:.4f}'}"


class DiscriminatorTuner(PatientTuner):
    """Scores a discriminator by a short GAN fine-tuning of a fixed generator.

    Args:
        hypermodel, oracle: the `DiscriminatorHyperModel` and its oracle.
        inputs: a `tfsr.gan.setup.GanInputs` (generator, data, perceptual,
            LPIPS; LPIPS is required: it is the objective).
        cfg: the `discriminator_search_config()` (`.train` is each trial's budget).
    """

    def __init__(self, hypermodel, oracle, inputs, cfg, **kwargs):
        if inputs.lpips is None:
            from tfsr.errors import UserError

            raise UserError("--lpips_weights is required: trials are scored by validation LPIPS")
        self.inputs, self.cfg = inputs, cfg
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)

    def run_trial(self, trial, *args, **kwargs):
        spec = self.hypermodel.spec_from_hp(trial.hyperparameters)
        spec.name = f"trial_{trial.trial_id}"
        trial_dir = self.get_trial_dir(trial.trial_id)
        spec.save(os.path.join(trial_dir, "discriminator.json"))
        print(f"[{self.tuner_id}] trial {trial.trial_id}: GAN training for {self.cfg.train.steps} steps", flush=True)
        keras.utils.set_random_seed(int(self.cfg.search.seed) + int(trial.trial_id))

        trainer = GanTrainer(
            self.inputs.generator_spec,
            spec,
            self.inputs.train_data,
            self.inputs.val_pairs,
            os.path.join(trial_dir, "gan"),
            self.cfg,
            self.inputs.perceptual,
            lpips=self.inputs.lpips_metrics(),
            initial_generator=self.inputs.initial_generator,
            verbose=False,
            name=spec.name,
        )
        try:
            trainer.fit()
        except TrainingDiverged as e:
            raise keras_tuner.errors.FailedTrialError(str(e)) from None
        scores = trainer.final_scores()
        lpips, psnr = scores["val_lpips"], scores["val_psnr"]
        if not (math.isfinite(lpips) and math.isfinite(psnr)):
            raise keras_tuner.errors.FailedTrialError(f"validation LPIPS {lpips}, PSNR {psnr}")
        params = build_discriminator(spec).count_params()
        return {"lpips": lpips, "psnr": psnr, "params": float(params)}


def write_discriminator_report(oracle, workdir, top_k=3):
    """Writes front.json, front.png and top/<rank>_trial_<id>.json; returns the front rows."""
    rows = []
    for t in oracle.pareto_front():
        spec = oracle.spec_of(t)
        rows.append(
            {
                "trial_id": t.trial_id,
                "lpips": t.score,
                "psnr": oracle.psnr_of(t),
                "params": int(t.metrics.get_last_value("params")),
                "spec": spec.to_dict(),
            }
        )
    everything = _all_rows(oracle)
    with open(os.path.join(workdir, "front.json"), "w") as f:
        json.dump({"front": rows, "trials": everything}, f, indent=1)
    top = os.path.join(workdir, "top")
    os.makedirs(top, exist_ok=True)
    for rank, row in enumerate(rows[:top_k], start=1):
        spec = DiscriminatorSpec.from_dict(row["spec"])
        spec.name = f"searched_d_trial_{row['trial_id']}"
        spec.save(os.path.join(top, f"{rank}_trial_{row['trial_id']}.json"))
    _plot(everything, rows, os.path.join(workdir, "front.png"))
    return rows


def _all_rows(oracle):
    return [
        {"trial_id": t.trial_id, "lpips": t.score, "psnr": oracle.psnr_of(t), "origin": oracle.origins.get(t.trial_id)}
        for t in oracle.completed()
    ]


def _plot(everything, rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter([r["lpips"] for r in everything], [r["psnr"] for r in everything], c="0.6", label="trials")
    ax.plot([r["lpips"] for r in rows], [r["psnr"] for r in rows], "o-", c="C3", label="Pareto front")
    for r in rows:
        ax.annotate(r["trial_id"], (r["lpips"], r["psnr"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("validation LPIPS (lower is better)")
    ax.set_ylabel("validation PSNR, dB (Y)")
    ax.set_title("discriminator search")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_discriminator_front(rows):
    lines = [f"{'trial':>6}  {'LPIPS':>7}  {'PSNR':>6}  {'D params':>9}  stages (channels/kernel/stride), norm"]
    for r in rows:
        stages = " ".join(f"{s['channels']}/{s['kernel']}/{s['stride']}" for s in r["spec"]["stages"])
        lines.append(
            f"{r['trial_id']:>6}  {r['lpips']:7.4f}  {r['psnr']:6.2f}  {r['params']:9,}  {stages}, {r['spec']['norm']}"
        )
    return "\n".join(lines)


def run_discriminator_search(cfg, workdir, inputs):
    """Runs (or resumes) the search; returns the front rows, or None on a worker."""
    from keras_tuner.src.distribute import utils as dist_utils

    from tfsr.gan.space import DiscriminatorHyperModel, DiscriminatorSpace

    try:
        space = DiscriminatorSpace(
            min_stages=cfg.space.min_stages,
            max_stages=cfg.space.max_stages,
            channels=tuple(cfg.space.channels),
            kernels=tuple(cfg.space.kernels),
        )
    except ValueError as e:
        from tfsr.errors import UserError

        raise UserError(f"config.space: {e}") from None
    hypermodel = DiscriminatorHyperModel(space, channels=inputs.generator_spec.channels)
    oracle = DiscriminatorOracle(
        hypermodel,
        min_psnr=cfg.search.get("min_psnr") or None,
        crossover_probability=cfg.search.crossover_probability,
        max_trials=cfg.search.max_trials,
        population_size=cfg.search.population_size,
        worker_timeout=cfg.search.worker_timeout,
        seed=cfg.search.seed,
    )
    os.makedirs(workdir, exist_ok=True)
    tuner = DiscriminatorTuner(
        hypermodel, oracle, inputs, cfg, directory=workdir, project_name="search", overwrite=False
    )
    done = len(tuner.oracle.completed()) if hasattr(tuner.oracle, "completed") else 0
    role = os.environ.get("KERASTUNER_TUNER_ID", "local")
    print(
        f"discriminator search for {inputs.generator_spec.name}: {cfg.search.max_trials} trials of"
        f" {cfg.train.steps} GAN steps, {done} already completed ({role}); workdir {workdir}",
        flush=True,
    )
    tuner.search()
    if dist_utils.has_chief_oracle() and not dist_utils.is_chief_oracle():
        print(f"worker {role}: no trials left", flush=True)
        return None
    return write_discriminator_report(tuner.oracle, workdir, top_k=cfg.search.top_k)
