"""The RL half of FALSR's hybrid controller: a policy that proposes mutations.

A small softmax policy (numpy, so it runs inside the oracle on any machine)
chooses *which gene* of *which relative cell position* to change and *to
what value*.  It is trained with REINFORCE on the reward of the child it
proposed:

    reward = (psnr_child - psnr_parent) / psnr_scale
             - cost_weight * log(mult_adds_child / mult_adds_parent)

with a moving-average baseline.  Its weights are plain lists so they travel
in the oracle's JSON state and a resumed search continues training them.
"""

import numpy as np

from tfsr.search.operators import MICRO_GENES

POSITION_BUCKETS = 3  # early / middle / late cells


class MutationPolicy:
    def __init__(self, space, learning_rate=0.1, cost_weight=0.5, psnr_scale=0.1, baseline_decay=0.9):
        self.space = space
        self.learning_rate, self.cost_weight = learning_rate, cost_weight
        self.psnr_scale, self.baseline_decay = psnr_scale, baseline_decay
        self.choices = {
            "block": list(space.blocks),
            "channels": list(space.widths),
            "kernel": list(space.kernels),
            "residual": [False, True],
            "repeats": list(space.repeats),
            "activation": list(space.activations),
        }
        # Logits: position bucket, gene, and per-gene value preferences.
        self.logits = {
            "position": np.zeros(POSITION_BUCKETS),
            "gene": np.zeros(len(MICRO_GENES)),
            **{g: np.zeros(len(v)) for g, v in self.choices.items()},
        }
        self.baseline = 0.0
        self.updates = 0

    @staticmethod
    def _softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    def propose(self, rng, n_cells):
        """Returns `(cell_index, gene, value, action)`; keep `action` for `learn`."""
        bucket = int(rng.choice(POSITION_BUCKETS, p=self._softmax(self.logits["position"])))
        lo, hi = bucket * n_cells // POSITION_BUCKETS, max((bucket + 1) * n_cells // POSITION_BUCKETS, 1)
        cell_index = int(rng.integers(lo, max(hi, lo + 1))) if lo < n_cells else n_cells - 1
        g = int(rng.choice(len(MICRO_GENES), p=self._softmax(self.logits["gene"])))
        gene = MICRO_GENES[g]
        v = int(rng.choice(len(self.choices[gene]), p=self._softmax(self.logits[gene])))
        action = {"position": bucket, "gene": g, gene: v}
        return cell_index, gene, self.choices[gene][v], action

    def reward(self, parent, child):
        """Reward of a child over its parent; each a dict with psnr, mult_adds."""
        gain = (child["psnr"] - parent["psnr"]) / self.psnr_scale
        return float(gain - self.cost_weight * np.log(child["mult_adds"] / parent["mult_adds"]))

    def learn(self, action, reward):
        """One REINFORCE step: grad log pi(action) * (reward - baseline)."""
        advantage = reward - self.baseline
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        for key, index in action.items():
            probs = self._softmax(self.logits[key])
            grad = -probs
            grad[index] += 1.0
            self.logits[key] = self.logits[key] + self.learning_rate * advantage * grad
        self.updates += 1

    # ---- state (JSON-friendly) ---------------------------------------------------
    def get_state(self):
        return {
            "logits": {k: v.tolist() for k, v in self.logits.items()},
            "baseline": self.baseline,
            "updates": self.updates,
        }

    def set_state(self, state):
        self.logits = {k: np.asarray(v, float) for k, v in state["logits"].items()}
        self.baseline, self.updates = state["baseline"], state["updates"]
