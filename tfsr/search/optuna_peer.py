"""Optuna's multi-objective samplers as a peer of `ParetoOracle`, for
benchmarks: the same hyperparameters, proxy, ceilings and objectives, a
different search strategy.  Optuna is a benchmark extra (`pip install
optuna`), never a dependency of tfsr itself.

`OptunaHyperParameters` answers `FalsrHyperModel.spec_from_hp`'s calls
(`Int`, `Choice`, `Boolean`, `conditional_scope`) with an Optuna trial's
`suggest_*`, so the hypermodel declares the space once for both.  A
candidate over a ceiling is not trained: it gets the worst PSNR and its
constraint violation (Optuna's `constraints_func`, which both NSGA-II and
TPE honour).
"""

import contextlib
import math
import os
import warnings

from tfsr.arch import count

WORST_PSNR = 0.0
MAX_REFUSED_PER_TRIAL = 50  # proposals over a ceiling allowed per trained trial


class OptunaHyperParameters:
    """The part of keras-tuner's `HyperParameters` the hypermodel uses,
    answered by an `optuna.Trial` (define-by-run: inactive conditional
    parameters are not suggested at all)."""

    def __init__(self, trial):
        self.trial = trial
        self.values = {}
        self._active = [True]

    @contextlib.contextmanager
    def conditional_scope(self, parent, parent_values):
        self._active.append(self._active[-1] and self.values.get(parent) in parent_values)
        try:
            yield
        finally:
            self._active.pop()

    def _suggest(self, name, suggest, default):
        value = suggest() if self._active[-1] else default
        self.values[name] = value
        return value

    def Int(self, name, min_value, max_value):
        return self._suggest(name, lambda: self.trial.suggest_int(name, min_value, max_value), min_value)

    def Choice(self, name, values):
        return self._suggest(name, lambda: self.trial.suggest_categorical(name, list(values)), values[0])

    def Boolean(self, name):
        return self._suggest(name, lambda: self.trial.suggest_categorical(name, [False, True]), False)


def run_optuna(tuner, workdir, n_trials, sampler="nsga2", seed=0, log=print):
    """Runs (or resumes) an Optuna study of `n_trials` trained candidates over `tuner`'s
    hypermodel, scoring with `tuner.score_spec` and the oracle's ceilings
    and objectives (`tuner.oracle`: a `ParetoOracle`).  The study lives in
    WORKDIR/optuna.db (SQLite), so a killed run resumes.  Returns the study.

    Objectives: maximize PSNR; minimize mult-adds, or the int8 latency when
    the oracle's cost objective is "latency".
    """
    import optuna

    oracle = tuner.oracle
    by_latency = oracle.cost_objective == "latency"

    def violation(spec):
        cost = count(spec, oracle.lr_size)
        latency = oracle.latency(spec) if oracle.latency is not None else None
        return cost, latency, oracle.cost_violation(cost, latency)

    def objective(trial):
        spec = tuner.hypermodel.spec_from_hp(OptunaHyperParameters(trial))
        spec.name = f"optuna_{trial.number}"
        cost, latency, over = violation(spec)
        trial.set_user_attr("spec", spec.to_dict())
        trial.set_user_attr("constraint", [over])
        failed = ""
        if over > 0:
            psnr = WORST_PSNR
        else:
            try:
                psnr = tuner.score_spec(spec, os.path.join(workdir, f"trial_{trial.number}"))["psnr"]
            except Exception as e:  # keras_tuner.errors.FailedTrialError (diverged, out of memory, int8 won't run)
                if type(e).__name__ != "FailedTrialError":
                    raise
                psnr, failed = WORST_PSNR, f" (failed: {e})"
                trial.set_user_attr("failed", str(e))
        log(f"[optuna] trial {trial.number}: PSNR {psnr:.2f} dB, {cost.mult_adds / 1e9:.2f}G mult-adds"
            + (f", {latency:.1f} ms" if latency is not None else "") + (" (over a ceiling)" if over > 0 else "")
            + failed)  # fmt: skip
        return psnr, (latency if by_latency else float(cost.mult_adds))

    def constraints(trial):
        return trial.user_attrs.get("constraint", [math.inf])

    samplers = {
        "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints,
                                                       population_size=oracle.population_size),
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed, constraints_func=constraints, multivariate=True),
    }  # fmt: skip
    if sampler not in samplers:
        raise ValueError(f"sampler must be one of {sorted(samplers)}, got {sampler!r}")
    os.makedirs(workdir, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # constraints_func
    study = optuna.create_study(
        study_name=f"tfsr_{sampler}_{seed}",
        storage=f"sqlite:///{os.path.join(os.path.abspath(workdir), 'optuna.db')}",
        load_if_exists=True,
        directions=["maximize", "minimize"],
        sampler=samplers[sampler](),
    )
    def trained():
        return sum(1 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE
                   and t.user_attrs.get("constraint", [math.inf])[0] <= 0)  # fmt: skip

    # Like ParetoOracle's max_trials, the budget counts trained candidates: one refused
    # over a ceiling costs a cost count, not a trial (bounded, for a ceiling nothing meets).
    for _ in range(MAX_REFUSED_PER_TRIAL * n_trials):
        if trained() >= n_trials:
            break
        study.optimize(objective, n_trials=1)
    return study
