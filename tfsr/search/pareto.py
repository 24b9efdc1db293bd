"""Multi-objective selection: NSGA-II sorting, crowding, constraints, hypervolume.

Objectives are given as *minimization* vectors (negate PSNR), so "a
dominates b" means a is no worse in every objective and better in one.
Constraint handling follows Deb's constrained domination: a feasible point
dominates every infeasible one; of two infeasible points the one with the
smaller total violation dominates.
"""

import numpy as np


def dominates(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(a <= b) and np.any(a < b))


def constrained_dominates(a, b, violation_a=0.0, violation_b=0.0):
    """Deb's constrained domination of objective vectors `a` over `b`."""
    if violation_a <= 0 and violation_b > 0:
        return True
    if violation_a > 0 and violation_b > 0:
        return violation_a < violation_b
    if violation_a > 0 and violation_b <= 0:
        return False
    return dominates(a, b)


def non_dominated_sort(objectives, violations=None):
    """Fast non-dominated sort (Deb et al. 2002).

    Args:
        objectives: `(n, m)` minimization objectives.
        violations: optional `(n,)` constraint violations (0 = feasible).

    Returns:
        A list of fronts, each a list of indices; front 0 is non-dominated.
    """
    n = len(objectives)
    violations = np.zeros(n) if violations is None else np.asarray(violations, float)
    dominated_by = [[] for _ in range(n)]  # i -> points i dominates
    domination_count = np.zeros(n, int)
    for i in range(n):
        for j in range(i + 1, n):
            if constrained_dominates(objectives[i], objectives[j], violations[i], violations[j]):
                dominated_by[i].append(j)
                domination_count[j] += 1
            elif constrained_dominates(objectives[j], objectives[i], violations[j], violations[i]):
                dominated_by[j].append(i)
                domination_count[i] += 1
    fronts = [[i for i in range(n) if domination_count[i] == 0]]
    while fronts[-1]:
        nxt = []
        for i in fronts[-1]:
            for j in dominated_by[i]:
                domination_count[j] -= 1
                if domination_count[j] == 0:
                    nxt.append(j)
        fronts.append(sorted(nxt))
    return fronts[:-1]


def crowding_distance(objectives):
    """NSGA-II crowding distance of each point of one front (inf at the ends)."""
    objectives = np.asarray(objectives, float)
    n, m = objectives.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(objectives[:, k], kind="stable")
        span = objectives[order[-1], k] - objectives[order[0], k]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span == 0:
            continue
        for r in range(1, n - 1):
            distance[order[r]] += (objectives[order[r + 1], k] - objectives[order[r - 1], k]) / span
    return distance


def rank_and_crowding(objectives, violations=None):
    """Per point: (front rank, crowding distance), for tournament selection."""
    n = len(objectives)
    rank, crowd = np.zeros(n, int), np.zeros(n)
    for r, front in enumerate(non_dominated_sort(objectives, violations)):
        rank[front] = r
        crowd[front] = crowding_distance(np.asarray(objectives)[front])
    return rank, crowd


def hypervolume_2d(points, reference):
    """Area dominated by 2-D minimization `points`, bounded by `reference`.

    Points not strictly better than the reference in both objectives add
    nothing.
    """
    pts = np.asarray([p for p in points if p[0] < reference[0] and p[1] < reference[1]], float)
    if len(pts) == 0:
        return 0.0
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    area, best_y = 0.0, reference[1]
    for x, y in pts:
        if y < best_y:
            area += (reference[0] - x) * (best_y - y)
            best_y = y
    return float(area)
