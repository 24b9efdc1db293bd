"""`ParetoOracle`: FALSR's multi-objective constrained search as a keras-tuner Oracle.

Objectives: maximize validation PSNR, minimize mult-adds, minimize params.
Mult-adds and params come from the cost model and are known before
training, so a candidate over a cost limit is rejected before it is ever
proposed.  A trained model under the PSNR floor is infeasible and, by
constrained domination, dominated by every feasible one.

Proposals:
  * the first `population_size` trials are random samples of the space,
    spread over the feasible cost range: each is the one of
    `initial_candidates` samples whose log mult-adds lies farthest from the
    trials proposed so far (a plain random sample of FALSR's space clusters
    at middling costs, and the front's ends are where hypervolume is won);
  * after that, NSGA-II: environmental selection of the best
    `population_size` completed trials by (front rank, crowding distance),
    binary tournaments for parents, single-point crossover on micro and
    macro genes together, then one mutation drawn from the configured mix:
    random, roulette by FLOPs, roulette by params, or the REINFORCE policy
    (`controller.MutationPolicy`) that learns which mutations pay off.

Everything the search needs to continue (RNG state, policy weights, pending
rewards, where each trial came from) is part of `get_state()`, which
keras-tuner saves in `oracle.json` after every trial, so a resumed search
continues exactly where it stopped.

For keras-tuner's chief/worker mode the oracle also tracks worker
heartbeats (an `update_trial` with no metrics): the trial of a worker silent
for longer than `worker_timeout` seconds is given to another worker, so a
killed worker does not stop the search (or keep the chief waiting forever).
"""

import copy
import json
import time

import keras_tuner
import numpy as np
from keras_tuner.src.engine import trial as trial_module

from tfsr.arch import count
from tfsr.search import operators, pareto
from tfsr.search.controller import MutationPolicy

TrialStatus = trial_module.TrialStatus


class ParetoOracle(keras_tuner.Oracle):
    """Args:
        hypermodel: the `FalsrHyperModel` (maps specs <-> hyperparameters).
        max_trials: total number of trials.
        population_size: random trials first, then the NSGA-II population.
        min_psnr: PSNR floor in dB (None: none).
        max_mult_adds / max_params: cost ceilings (None: none).
        lr_size: `(h, w)` LR input size the mult-adds are counted for.
        mutation_mix: weights of {"random", "flops", "params", "rl"}; "rl": 0
            gives pure NSGA-II.
        crossover_probability: chance a child comes from crossover.
        initial_candidates: samples drawn per initial trial to spread costs
            (1: plain random sampling).
        worker_timeout: seconds without heartbeat before a trial is reclaimed.
        seed: RNG seed.
    """

    def __init__(
        self,
        hypermodel,
        max_trials=20,
        population_size=8,
        min_psnr=None,
        max_mult_adds=None,
        max_params=None,
        lr_size=(480, 480),
        mutation_mix=None,
        crossover_probability=0.5,
        initial_candidates=8,
        worker_timeout=600,
        seed=0,
        **kwargs,
    ):
        super().__init__(
            objective=keras_tuner.Objective("psnr", "max"),
            max_trials=max_trials,
            seed=seed,
            max_consecutive_failed_trials=max(3, max_trials),
            **kwargs,
        )
        self.hypermodel, self.space = hypermodel, hypermodel.space
        self.population_size = population_size
        self.min_psnr, self.max_mult_adds, self.max_params = min_psnr, max_mult_adds, max_params
        self.lr_size = tuple(lr_size)
        mix = dict(mutation_mix or {"random": 0.4, "flops": 0.2, "params": 0.1, "rl": 0.3})
        total = sum(mix.values())
        if total <= 0 or any(v < 0 for v in mix.values()) or set(mix) - {"random", "flops", "params", "rl"}:
            raise ValueError(f"bad mutation_mix {mix}: weights of random/flops/params/rl, not all zero")
        self.mutation_mix = {k: v / total for k, v in mix.items()}
        self.crossover_probability = crossover_probability
        self.initial_candidates = max(1, int(initial_candidates))
        self.worker_timeout = worker_timeout
        self.rng = np.random.default_rng(seed)
        self.policy = MutationPolicy(self.space)
        self.origins = {}  # trial_id -> how it was proposed
        self.pending_rewards = {}  # trial_id -> {"parent": id, "action": {...}}
        self._last_seen = {}  # trial_id -> time of last heartbeat (not persisted)
        self._costs = {}
        self.verbose = 0  # our own one-line progress replaces keras-tuner's tables

    # ---- objectives ---------------------------------------------------------------
    def spec_of(self, trial):
        return self.hypermodel.spec_from_hp(trial.hyperparameters.copy())

    def cost_of(self, trial):
        if trial.trial_id not in self._costs:
            self._costs[trial.trial_id] = count(self.spec_of(trial), self.lr_size)
        return self._costs[trial.trial_id]

    def cost_violation(self, cost):
        """Relative amount by which a cost exceeds its ceilings (0: within)."""
        v = 0.0
        if self.max_mult_adds and cost.mult_adds > self.max_mult_adds:
            v += cost.mult_adds / self.max_mult_adds - 1.0
        if self.max_params and cost.params > self.max_params:
            v += cost.params / self.max_params - 1.0
        return v

    def violation(self, psnr, cost):
        v = self.cost_violation(cost)
        if self.min_psnr is not None and psnr < self.min_psnr:
            v += (self.min_psnr - psnr) / max(self.min_psnr, 1e-9)
        return v

    def completed(self):
        return [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED and t.score is not None]

    def objectives(self, trials):
        """`(n, 3)` minimization objectives and `(n,)` violations."""
        objs, viols = [], []
        for t in trials:
            cost = self.cost_of(t)
            objs.append([-t.score, cost.mult_adds, cost.params])
            viols.append(self.violation(t.score, cost))
        return np.asarray(objs, float), np.asarray(viols, float)

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
        return sorted((trials[feasible[i]] for i in front), key=lambda t: self.cost_of(t).mult_adds)

    # ---- proposals ------------------------------------------------------------------
    def _population(self):
        trials = self.completed()
        if not trials:
            return [], None, None
        objs, viols = self.objectives(trials)
        rank, crowd = pareto.rank_and_crowding(objs, viols)
        order = sorted(range(len(trials)), key=lambda i: (rank[i], -crowd[i]))[: self.population_size]
        return [trials[i] for i in order], rank[order], crowd[order]

    def _tournament(self, population, rank, crowd):
        i, j = self.rng.choice(len(population), size=2, replace=len(population) < 2)
        better = i if (rank[i], -crowd[i]) <= (rank[j], -crowd[j]) else j
        return population[int(better)]

    def _propose_child(self, trial_id):
        population, rank, crowd = self._population()
        parent = self._tournament(population, rank, crowd)
        spec = self.spec_of(parent)
        how = []
        if len(population) > 1 and self.rng.random() < self.crossover_probability:
            other = self._tournament(population, rank, crowd)
            spec = operators.crossover(self.space, spec, self.spec_of(other), self.rng)
            how.append("crossover")
        kinds = list(self.mutation_mix)
        kind = kinds[int(self.rng.choice(len(kinds), p=[self.mutation_mix[k] for k in kinds]))]
        reward_info = None
        if kind == "rl":
            cell, gene, value, action = self.policy.propose(self.rng, len(spec.cells))
            spec = operators.apply_cell_action(self.space, spec, cell, gene, value)
            reward_info = {"parent": parent.trial_id, "action": action}
        else:
            spec = operators.mutate(self.space, spec, self.rng, mode=kind, lr_size=self.lr_size)
        how.append(f"mutate:{kind}")
        return spec, "+".join(how), reward_info

    def _spread_sample(self):
        """The candidate (of several feasible samples) farthest in log cost."""
        taken = [np.log(self.cost_of(t).mult_adds) for t in self.trials.values()]
        best, best_gap = None, -1.0
        for _ in range(self.initial_candidates):
            for _ in range(100):
                spec = self.space.sample(self.rng)
                cost = count(spec, self.lr_size)
                if self.cost_violation(cost) <= 0:
                    break
            gap = min((abs(np.log(cost.mult_adds) - c) for c in taken), default=0.0)
            if gap > best_gap:
                best, best_gap = spec, gap
        return best

    def populate_space(self, trial_id):
        evolving = len(self.completed()) >= min(self.population_size, self.max_trials)
        for _ in range(500):
            if evolving:
                spec, origin, reward_info = self._propose_child(trial_id)
            else:
                spec, origin, reward_info = self._spread_sample(), "random", None
            if self.cost_violation(count(spec, self.lr_size)) > 0:
                continue  # rejected before training: over a cost ceiling
            values = self.hypermodel.values_from_spec(spec)
            if self._duplicate(values):
                continue
            self.origins[trial_id] = origin
            if reward_info:
                self.pending_rewards[trial_id] = reward_info
            return {"status": TrialStatus.RUNNING, "values": values}
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
            self._last_seen[trial.trial_id] = time.time()
        return trial

    def _reclaim_silent_trials(self, asking_tuner):
        if not self.worker_timeout:
            return
        now = time.time()
        for tuner_id, trial in list(self.ongoing_trials.items()):
            seen = self._last_seen.setdefault(trial.trial_id, now)
            if tuner_id != asking_tuner and now - seen > self.worker_timeout:
                print(f"[search] worker {tuner_id} silent for {now - seen:.0f}s: trial {trial.trial_id} goes to another worker")
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
        done = self.trials[trial.trial_id]
        info = self.pending_rewards.pop(trial.trial_id, None)
        if info and done.status == TrialStatus.COMPLETED and info["parent"] in self.trials:
            parent = self.trials[info["parent"]]
            reward = self.policy.reward(
                {"psnr": parent.score, "mult_adds": self.cost_of(parent).mult_adds},
                {"psnr": done.score, "mult_adds": self.cost_of(done).mult_adds},
            )
            self.policy.learn(info["action"], reward)
            self.save()
        self._report(done)

    def _report(self, trial):
        front = self.pareto_front()
        best = max((t.score for t in front), default=None)
        finished = len([t for t in self.trials.values() if t.status in (TrialStatus.COMPLETED, TrialStatus.FAILED)])
        cost = self.cost_of(trial)
        result = f"PSNR {trial.score:.2f} dB" if trial.status == TrialStatus.COMPLETED else trial.status
        print(
            f"[search] trial {trial.trial_id} ({finished}/{self.max_trials}, {self.origins.get(trial.trial_id, '?')}):"
            f" {result}, {cost.mult_adds / 1e9:.2f}G mult-adds, {cost.params / 1e3:.1f}K params"
            f" | front {len(front)}, best feasible PSNR {'-' if best is None else f'{best:.2f} dB'}",
            flush=True,
        )

    # ---- state --------------------------------------------------------------------------
    def get_state(self):
        state = super().get_state()
        state["tfsr"] = {
            "rng": json.dumps(self.rng.bit_generator.state),
            "policy": self.policy.get_state(),
            "origins": self.origins,
            "pending_rewards": self.pending_rewards,
        }
        return state

    def set_state(self, state):
        super().set_state(state)
        mine = state.get("tfsr")
        if mine:
            self.rng.bit_generator.state = json.loads(mine["rng"])
            self.policy.set_state(copy.deepcopy(mine["policy"]))
            self.origins = dict(mine["origins"])
            self.pending_rewards = dict(mine["pending_rewards"])
