"""`MultiObjectiveOracle`: NSGA-II bookkeeping shared by tfsr's searches.

A keras-tuner Oracle whose trials are ranked by constrained Pareto
dominance instead of one score.  Subclasses say what is searched:

    objectives(trials)   -> (n, k) objectives to minimize, (n,) violations
    propose_initial()    -> a `Proposal` for the first `population_size` trials
    propose_child(population, rank, crowd) -> a `Proposal` bred from the
                            current population (NSGA-II environmental
                            selection), or None to draw again
    describe(trial)      -> the result part of the one-line trial report
    front_summary(front) -> its Pareto-front part

The base class keeps what every multi-objective search needs and nothing
search-specific: the population (best `population_size` completed trials by
front rank, then crowding distance), binary tournaments, duplicate
rejection, the Pareto front, a resumable RNG (saved in `oracle.json` with
keras-tuner's own state after every trial), and keras-tuner chief/worker
robustness: a worker silent (no heartbeat, i.e. metric-less
`update_trial`) for `worker_timeout` seconds loses its trial to another
worker, and workers asking for a trial while the last ones still run are
told to wait (IDLE) rather than to stop.
"""

import copy
import dataclasses
import json
import time
from typing import Optional  # noqa: UP035

import keras_tuner
import numpy as np
from keras_tuner.src.engine import trial as trial_module

from tfsr.search import pareto

TrialStatus = trial_module.TrialStatus


@dataclasses.dataclass
class Proposal:
    values: dict  # hyperparameter values of the new trial
    origin: str  # how it was made ("random", "crossover+mutate:flops", ...)
    info: Optional[dict] = None  # kept by the subclass until the trial ends


class MultiObjectiveOracle(keras_tuner.Oracle):
    """Args:
    objective: the keras-tuner `Objective` whose value is `trial.score`.
    max_trials: total number of trials.
    population_size: initial trials, then the NSGA-II population size.
    worker_timeout: seconds without heartbeat before a trial is reclaimed
        (0: never).
    time_budget: seconds; no new trial starts once the ended trials have
        taken this long in all (summed over workers, kept across resumes;
        0: no limit), so two searches can be given the same compute.
    seed: RNG seed.
    """

    def __init__(self, objective, max_trials=20, population_size=8, worker_timeout=600, time_budget=0, seed=0,
                 **kwargs):  # fmt: skip
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            seed=seed,
            max_consecutive_failed_trials=max(3, max_trials),
            **kwargs,
        )
        self.population_size = population_size
        self.worker_timeout = worker_timeout
        self.time_budget = float(time_budget or 0)
        self.trial_seconds = {}  # trial_id -> wall seconds from creation to end
        self._started = {}  # trial_id -> time.time() at creation (not persisted)
        self.rng = np.random.default_rng(seed)
        self.origins = {}  # trial_id -> how it was proposed
        self.proposal_info = {}  # trial_id -> Proposal.info, until the trial ends
        self._last_seen = {}  # trial_id -> time of last heartbeat (not persisted)
        self.verbose = 0  # our own one-line progress replaces keras-tuner's tables

    # ---- what subclasses define ------------------------------------------------------
    def objectives(self, trials):
        raise NotImplementedError

    def propose_initial(self):
        raise NotImplementedError

    def propose_child(self, population, rank, crowd):
        raise NotImplementedError

    def describe(self, trial):
        return f"score {trial.score}"

    def front_summary(self, front):
        """The front part of the one-line trial report."""
        return f"front {len(front)}"

    def on_trial_end(self, trial, info):
        """Called once per ended trial with its `Proposal.info` (may be None)."""

    def front_order(self, trial):
        """Sort key of the Pareto front as reported."""
        return self.objectives([trial])[0][0][1:].tolist()

    # ---- population ---------------------------------------------------------------------
    def completed(self):
        return [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED and t.score is not None]

    def pareto_front(self):
        """Completed feasible trials that no other feasible trial dominates."""
        trials = self.completed()
        if not trials:
            return []
        objs, viols = self.objectives(trials)
        feasible = [i for i in range(len(trials)) if viols[i] <= 0]
        if not feasible:
            return []
        front = pareto.non_dominated_sort(objs[feasible])[0]
        return sorted((trials[feasible[i]] for i in front), key=self.front_order)

    def population(self):
        """`(trials, rank, crowd)` of the NSGA-II population (empty: none yet)."""
        trials = self.completed()
        if not trials:
            return [], None, None
        objs, viols = self.objectives(trials)
        rank, crowd = pareto.rank_and_crowding(objs, viols)
        order = sorted(range(len(trials)), key=lambda i: (rank[i], -crowd[i]))[: self.population_size]
        return [trials[i] for i in order], rank[order], crowd[order]

    def tournament(self, population, rank, crowd):
        """Binary tournament: lower front rank wins, then larger crowding distance."""
        i, j = self.rng.choice(len(population), size=2, replace=len(population) < 2)
        better = i if (rank[i], -crowd[i]) <= (rank[j], -crowd[j]) else j
        return population[int(better)]

    def time_spent(self):
        """Seconds the ended trials took, in all."""
        return sum(self.trial_seconds.values())

    def populate_space(self, trial_id):
        if self.time_budget and self.time_spent() >= self.time_budget:
            print(f"[search] time budget spent ({self.time_spent():.0f} of {self.time_budget:.0f} s): no new trial",
                  flush=True)  # fmt: skip
            return {"status": TrialStatus.STOPPED, "values": None}
        evolving = len(self.completed()) >= min(self.population_size, self.max_trials)
        for _ in range(500):
            proposal = self.propose_child(*self.population()) if evolving else self.propose_initial()
            if proposal is None or self._duplicate(proposal.values):
                continue
            self.origins[trial_id] = proposal.origin
            if proposal.info:
                self.proposal_info[trial_id] = proposal.info
            return {"status": TrialStatus.RUNNING, "values": proposal.values}
        return {"status": TrialStatus.STOPPED, "values": None}  # space exhausted

    # ---- trial bookkeeping ------------------------------------------------------------
    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        self._reclaim_silent_trials(tuner_id)
        if (
            tuner_id not in self.ongoing_trials
            and not self._retry_queue
            and self.max_trials
            and len(self.trials) >= self.max_trials
            and self.ongoing_trials
            and self.worker_timeout
        ):
            # Others still run trials that may yet be reclaimed: wait.
            self.tuner_ids.add(tuner_id)
            return trial_module.Trial(self.hyperparameters.copy(), trial_id=None, status=TrialStatus.IDLE)
        trial = super().create_trial(tuner_id)
        if trial.status == TrialStatus.RUNNING:
            self._last_seen[trial.trial_id] = self._started[trial.trial_id] = time.time()
        return trial

    def _reclaim_silent_trials(self, asking_tuner):
        if not self.worker_timeout:
            return
        now = time.time()
        for tuner_id, trial in list(self.ongoing_trials.items()):
            seen = self._last_seen.setdefault(trial.trial_id, now)
            if tuner_id != asking_tuner and now - seen > self.worker_timeout:
                print(
                    f"[search] worker {tuner_id} silent for {now - seen:.0f}s: trial {trial.trial_id} goes to another worker"
                )
                del self.ongoing_trials[tuner_id]
                self.tuner_ids.discard(tuner_id)
                self._retry_queue.append(trial.trial_id)

    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        self._last_seen[trial_id] = time.time()
        if not metrics:  # a heartbeat
            return self.trials[trial_id]
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial):
        if trial.trial_id in self.end_order:
            return  # a reclaimed trial, finished by its first worker after all
        super().end_trial(trial)
        self._last_seen.pop(trial.trial_id, None)
        if trial.trial_id in self._started:  # (a trial resumed from a killed run counts from its restart)
            self.trial_seconds[trial.trial_id] = time.time() - self._started.pop(trial.trial_id)
        done = self.trials[trial.trial_id]
        info = self.proposal_info.pop(trial.trial_id, None)
        self.on_trial_end(done, info)
        self.save()
        self._report(done)

    def _report(self, trial):
        front = self.pareto_front()
        finished = len([t for t in self.trials.values() if t.status in (TrialStatus.COMPLETED, TrialStatus.FAILED)])
        result = self.describe(trial) if trial.status == TrialStatus.COMPLETED else trial.status
        print(
            f"[search] trial {trial.trial_id} ({finished}/{self.max_trials}, {self.origins.get(trial.trial_id, '?')}):"
            f" {result} | {self.front_summary(front)}",
            flush=True,
        )

    # ---- state --------------------------------------------------------------------------
    def get_state(self):
        state = super().get_state()
        state["tfsr"] = {
            "rng": json.dumps(self.rng.bit_generator.state),
            "origins": self.origins,
            "proposal_info": self.proposal_info,
            "trial_seconds": self.trial_seconds,
        }
        return state

    def set_state(self, state):
        super().set_state(state)
        mine = state.get("tfsr")
        if mine:
            self.rng.bit_generator.state = json.loads(mine["rng"])
            self.origins = dict(mine["origins"])
            self.proposal_info = copy.deepcopy(dict(mine.get("proposal_info", mine.get("pending_rewards", {}))))
            self.trial_seconds = dict(mine.get("trial_seconds", {}))
