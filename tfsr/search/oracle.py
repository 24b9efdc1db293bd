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

The population, tournaments, Pareto front, resumable state and chief/worker
heartbeats come from `MultiObjectiveOracle`; the policy's weights are saved
with them in `oracle.json`, so a resumed search continues exactly where it
stopped.
"""

import copy

import keras_tuner
import numpy as np

from tfsr.arch import count
from tfsr.search import operators
from tfsr.search.controller import MutationPolicy
from tfsr.search.multi_objective import MultiObjectiveOracle, Proposal


class ParetoOracle(MultiObjectiveOracle):
    """Args:
    hypermodel: the `FalsrHyperModel` (maps specs <-> hyperparameters).
    max_trials: total number of trials.
    population_size: random trials first, then the NSGA-II population.
    min_psnr: PSNR floor in dB (None: none).
    max_mult_adds / max_params: cost ceilings (None: none).
    min_mult_adds: a cost floor (None: none): with a ceiling, a band.  A
        search for the best net *at* a cost spends its trials there instead
        of spreading them down the whole front (24 trials under 2.3G with
        no floor went mostly to 8-channel nets of 0.4-1.4G).
    lr_size: `(h, w)` LR input size the mult-adds are counted for.
    mutation_mix: weights of {"random", "flops", "params", "rl"}; "rl": 0
        gives pure NSGA-II.
    crossover_probability: chance a child comes from crossover.
    initial_candidates: samples drawn per initial trial to spread costs
        (1: plain random sampling).
    latency: a `spec -> ms` callable (`tfsr.latency.MeasuredLatency`), or
        None; needed by the two settings below.
    max_latency_ms: int8 latency ceiling in ms (None: none); checked, like
        the cost ceilings, before a candidate is trained.
    cost_objective: what is traded against PSNR: "mult_adds" (objectives -PSNR,
        mult-adds, params) or "latency" (-PSNR, int8 ms).
    worker_timeout: seconds without heartbeat before a trial is reclaimed.
    time_budget: seconds of trials in all before no new one starts (0: none).
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
        min_mult_adds=None,
        lr_size=(480, 480),
        mutation_mix=None,
        crossover_probability=0.5,
        initial_candidates=8,
        latency=None,
        max_latency_ms=None,
        cost_objective="mult_adds",
        worker_timeout=600,
        time_budget=0,
        seed=0,
        **kwargs,
    ):
        super().__init__(
            objective=keras_tuner.Objective("psnr", "max"),
            max_trials=max_trials,
            population_size=population_size,
            worker_timeout=worker_timeout,
            time_budget=time_budget,
            seed=seed,
            **kwargs,
        )
        self.hypermodel, self.space = hypermodel, hypermodel.space
        self.min_psnr, self.max_mult_adds, self.max_params = min_psnr, max_mult_adds, max_params
        self.min_mult_adds = min_mult_adds
        if min_mult_adds and max_mult_adds and min_mult_adds >= max_mult_adds:
            raise ValueError(f"min_mult_adds ({min_mult_adds:g}) must be below max_mult_adds ({max_mult_adds:g})")
        self.lr_size = tuple(lr_size)
        mix = dict(mutation_mix or {"random": 0.4, "flops": 0.2, "params": 0.1, "rl": 0.3})
        total = sum(mix.values())
        if total <= 0 or any(v < 0 for v in mix.values()) or set(mix) - {"random", "flops", "params", "rl"}:
            raise ValueError(f"bad mutation_mix {mix}: weights of random/flops/params/rl, not all zero")
        self.mutation_mix = {k: v / total for k, v in mix.items()}
        self.crossover_probability = crossover_probability
        self.initial_candidates = max(1, int(initial_candidates))
        self.policy = MutationPolicy(self.space)
        self._costs = {}
        if cost_objective not in ("mult_adds", "latency"):
            raise ValueError(f"objective must be mult_adds or latency, got {cost_objective!r}")
        timed = cost_objective == "latency" or bool(max_latency_ms)
        if timed and latency is None:
            raise ValueError("a latency objective or ceiling needs a latency model")
        # (keras-tuner's own `objective` is the score's: PSNR)
        self.cost_objective, self.max_latency_ms = cost_objective, max_latency_ms
        self.latency = latency if timed else None
        self.rejected_by_latency = 0  # candidates over the latency ceiling, measured or predicted (this process)

    # ---- objectives ---------------------------------------------------------------
    def spec_of(self, trial):
        return self.hypermodel.spec_from_hp(trial.hyperparameters.copy())

    def cost_of(self, trial):
        if trial.trial_id not in self._costs:
            self._costs[trial.trial_id] = count(self.spec_of(trial), self.lr_size)
        return self._costs[trial.trial_id]

    def latency_of(self, trial):
        """The trial's int8 latency in ms (None without a latency model)."""
        return None if self.latency is None else self.latency(self.spec_of(trial))

    def cost_violation(self, cost, latency_ms=None):
        """Relative amount by which a cost lies outside its bounds (0: within)."""
        v = 0.0
        if self.max_mult_adds and cost.mult_adds > self.max_mult_adds:
            v += cost.mult_adds / self.max_mult_adds - 1.0
        if self.min_mult_adds and cost.mult_adds < self.min_mult_adds:
            v += 1.0 - cost.mult_adds / self.min_mult_adds
        if self.max_params and cost.params > self.max_params:
            v += cost.params / self.max_params - 1.0
        if self.max_latency_ms and latency_ms is not None and latency_ms > self.max_latency_ms:
            v += latency_ms / self.max_latency_ms - 1.0
        return v

    def violation(self, psnr, cost, latency_ms=None):
        v = self.cost_violation(cost, latency_ms)
        if self.min_psnr is not None and psnr < self.min_psnr:
            v += (self.min_psnr - psnr) / max(self.min_psnr, 1e-9)
        return v

    def objectives(self, trials):
        """`(n, k)` minimization objectives and `(n,)` violations: (-PSNR,
        mult-adds, params), or (-PSNR, int8 ms) for the latency objective."""
        objs, viols = [], []
        for t in trials:
            cost, latency_ms = self.cost_of(t), self.latency_of(t)
            if self.cost_objective == "latency":
                objs.append([-t.score, latency_ms])
            else:
                objs.append([-t.score, cost.mult_adds, cost.params])
            viols.append(self.violation(t.score, cost, latency_ms))
        return np.asarray(objs, float), np.asarray(viols, float)

    def front_order(self, trial):
        return self.latency_of(trial) if self.cost_objective == "latency" else self.cost_of(trial).mult_adds

    # ---- proposals ------------------------------------------------------------------
    def _feasible(self, spec):
        # Rejected before training: over a cost ceiling (the latency, measured
        # on an untrained model, only when the analytic costs pass).
        if self.cost_violation(count(spec, self.lr_size)) > 0:
            return False
        if self.max_latency_ms and self.latency(spec) > self.max_latency_ms:
            self.rejected_by_latency += 1
            return False
        return True

    def propose_child(self, population, rank, crowd):
        parent = self.tournament(population, rank, crowd)
        spec = self.spec_of(parent)
        how = []
        if len(population) > 1 and self.rng.random() < self.crossover_probability:
            other = self.tournament(population, rank, crowd)
            spec = operators.crossover(self.space, spec, self.spec_of(other), self.rng)
            how.append("crossover")
        kinds = list(self.mutation_mix)
        kind = kinds[int(self.rng.choice(len(kinds), p=[self.mutation_mix[k] for k in kinds]))]
        info = None
        if kind == "rl":
            cell, gene, value, action = self.policy.propose(self.rng, len(spec.cells))
            spec = operators.apply_cell_action(self.space, spec, cell, gene, value)
            info = {"parent": parent.trial_id, "action": action}
        else:
            spec = operators.mutate(self.space, spec, self.rng, mode=kind, lr_size=self.lr_size)
        how.append(f"mutate:{kind}")
        if not self._feasible(spec):
            return None
        return Proposal(self.hypermodel.values_from_spec(spec), "+".join(how), info)

    def propose_initial(self):
        """The candidate (of several feasible samples) farthest in log cost."""
        taken = [np.log(self.cost_of(t).mult_adds) for t in self.trials.values()]
        best, best_gap = None, -1.0
        for _ in range(self.initial_candidates):
            for _ in range(100):
                spec = self.space.sample(self.rng)
                cost = count(spec, self.lr_size)
                if self.cost_violation(cost) <= 0:
                    break
            else:
                continue  # no sample within the cost bounds: not a candidate
            gap = min((abs(np.log(cost.mult_adds) - c) for c in taken), default=0.0)
            if gap > best_gap:
                best, best_gap = spec, gap
        if best is None or not self._feasible(best):
            return None
        return Proposal(self.hypermodel.values_from_spec(best), "random")

    # ---- learning and reporting ---------------------------------------------------
    def on_trial_end(self, trial, info):
        """Rewards the REINFORCE policy for the mutation that made `trial`."""
        if info and trial.status == "COMPLETED" and info["parent"] in self.trials:
            parent = self.trials[info["parent"]]
            reward = self.policy.reward(
                {"psnr": parent.score, "mult_adds": self.cost_of(parent).mult_adds},
                {"psnr": trial.score, "mult_adds": self.cost_of(trial).mult_adds},
            )
            self.policy.learn(info["action"], reward)

    def describe(self, trial):
        cost, latency_ms = self.cost_of(trial), self.latency_of(trial)
        text = f"PSNR {trial.score:.2f} dB, {cost.mult_adds / 1e9:.2f}G mult-adds, {cost.params / 1e3:.1f}K params"
        return text if latency_ms is None else f"{text}, {latency_ms:.1f} ms int8"

    def front_summary(self, front):
        best = max((t.score for t in front), default=None)
        text = f"front {len(front)}, best feasible PSNR {'-' if best is None else f'{best:.2f} dB'}"
        if self.rejected_by_latency:
            text += f", {self.rejected_by_latency} candidates over the {self.max_latency_ms:.1f} ms ceiling so far"
        return text

    # ---- state --------------------------------------------------------------------------
    def get_state(self):
        state = super().get_state()
        state["tfsr"]["policy"] = self.policy.get_state()
        if self.latency is not None:  # measured once per architecture, kept across resumes
            state["tfsr"]["latency_ms"] = dict(self.latency.cache)
        return state

    def set_state(self, state):
        super().set_state(state)
        mine = state.get("tfsr")
        if mine and "policy" in mine:
            self.policy.set_state(copy.deepcopy(mine["policy"]))
        if mine and self.latency is not None:
            self.latency.cache.update(mine.get("latency_ms", {}))
