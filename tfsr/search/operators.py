"""Variation operators of the evolutionary search, over `ArchSpec`s.

A spec's genes are its cells, each carrying micro genes (block, channels,
kernel, residual, repeats, activation) and macro genes (its input links), followed by
the upsampler's links.  Every operator returns a *valid* spec of the space:
links that point past the end of a shorter child are dropped and the
mandatory links (previous node, last cell into the upsampler) restored.
"""

import copy

import numpy as np

from tfsr.arch import count

MICRO_GENES = ("block", "channels", "kernel", "residual", "repeats", "activation")


def _repair_links(links, node):
    """Links of node `node`: earlier nodes only, always the previous one."""
    return sorted({j for j in (links or []) if 0 <= j < node - 1} | {node - 1})


def repair(space, cells, up_links, name):
    cells = [copy.deepcopy(c) for c in cells][: space.max_cells]
    for i, cell in enumerate(cells):
        cell.inputs = _repair_links(cell.inputs, i + 1)
    return space.make_spec(cells, _repair_links(up_links, len(cells) + 1), name=name)


def crossover(space, a, b, rng, name="child"):
    """Single-point crossover on the cell sequence (micro and macro together).

    The child takes parent `a`'s cells before the cut and `b`'s cells from the
    cut on, each with its links, and `b`'s upsampler links.
    """
    cut_a = int(rng.integers(1, len(a.cells) + 1))
    cut_b = int(rng.integers(0, len(b.cells)))
    cells = a.cells[:cut_a] + b.cells[cut_b:]
    if len(cells) < space.min_cells:
        cells = cells + [space.random_cell(rng, i) for i in range(len(cells), space.min_cells)]
    return repair(space, cells, b.upsampler_inputs(), name)


def _cell_costs(spec, lr_size):
    """Mult-adds and params attributable to each cell (by removal)."""
    full = count(spec, lr_size)
    costs = []
    for i in range(len(spec.cells)):
        lighter = copy.deepcopy(spec)
        lighter.cells[i].repeats = 1
        lighter.cells[i].channels = min(spec.cells[i].channels, 16)
        c = count(lighter, lr_size)
        costs.append((max(full.mult_adds - c.mult_adds, 1), max(full.params - c.params, 1)))
    return costs


def mutate(space, spec, rng, mode="random", lr_size=(480, 480), rate=None, name="mutant"):
    """Mutates one spec.

    Modes:
        random: each cell's micro genes mutate with probability `rate`
            (default 1/n cells), plus one link flip.
        flops / params: roulette wheel: the cell to mutate is drawn with
            probability proportional to its share of mult-adds (params), so
            the costliest parts of a network are reshaped most often.
    """
    cells = [copy.deepcopy(c) for c in spec.cells]
    n = len(cells)
    if mode == "random":
        rate = rate or 1.0 / n
        chosen = [i for i in range(n) if rng.random() < rate] or [int(rng.integers(n))]
    elif mode in ("flops", "params"):
        costs = np.array([c[0 if mode == "flops" else 1] for c in _cell_costs(spec, lr_size)], float)
        chosen = [int(rng.choice(n, p=costs / costs.sum()))]
    else:
        raise ValueError(f"unknown mutation mode {mode!r}")
    for i in chosen:
        gene = MICRO_GENES[int(rng.integers(len(MICRO_GENES)))]
        fresh = space.random_cell(rng, i)
        setattr(cells[i], gene, getattr(fresh, gene))
    up_links = spec.upsampler_inputs()
    # One macro mutation: flip a random optional link (or grow/shrink depth).
    roll = rng.random()
    if roll < 0.1 and n < space.max_cells:
        cells.insert(int(rng.integers(n + 1)), space.random_cell(rng, 0))
    elif roll < 0.2 and n > space.min_cells:
        del cells[int(rng.integers(n))]
    else:
        node = int(rng.integers(1, n + 2))  # a cell (1..n) or the upsampler (n+1)
        if node >= 3:
            j = int(rng.integers(0, node - 1))
            links = set(cells[node - 1].inputs if node <= n else up_links)
            links ^= {j}
            if node <= n:
                cells[node - 1].inputs = sorted(links)
            else:
                up_links = sorted(links)
    return repair(space, cells, up_links, name)


def apply_cell_action(space, spec, cell_index, gene, value, name="rl_mutant"):
    """Sets one micro gene of one cell (the RL controller's mutation)."""
    cells = [copy.deepcopy(c) for c in spec.cells]
    setattr(cells[cell_index], gene, value)
    return repair(space, cells, spec.upsampler_inputs(), name)
