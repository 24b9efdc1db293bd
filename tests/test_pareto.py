import numpy as np
import pytest

from tfsr.search import pareto


def test_non_dominated_sort_hand_worked():
    # Minimize both. Points: a(1,5) b(2,3) c(4,1) are mutually non-dominated;
    # d(3,4) is dominated by b; e(5,5) by all of a..d; f(2,3) equals b.
    pts = np.array([[1, 5], [2, 3], [4, 1], [3, 4], [5, 5], [2, 3]])
    fronts = pareto.non_dominated_sort(pts)
    assert fronts == [[0, 1, 2, 5], [3], [4]]


def test_crowding_distance_hand_worked():
    # Front on a line: ends are infinite, inner points get the normalized
    # side lengths of their neighbours' box summed over objectives.
    pts = np.array([[0, 10], [1, 8], [3, 4], [10, 0]])
    d = pareto.crowding_distance(pts)
    assert np.isinf(d[0]) and np.isinf(d[3])
    assert d[1] == pytest.approx((3 - 0) / 10 + (10 - 4) / 10)
    assert d[2] == pytest.approx((10 - 1) / 10 + (8 - 0) / 10)
    assert np.all(np.isinf(pareto.crowding_distance(pts[:2])))


def test_constrained_domination():
    good, bad = [1, 1], [0, 0]
    # A feasible point beats an infeasible one whatever the objectives say.
    assert pareto.constrained_dominates(good, bad, 0.0, 0.5)
    assert not pareto.constrained_dominates(bad, good, 0.5, 0.0)
    # Two infeasible points: the smaller violation wins.
    assert pareto.constrained_dominates(good, bad, 0.1, 0.5)
    assert not pareto.constrained_dominates(good, bad, 0.5, 0.1)
    # Two feasible points: plain Pareto domination.
    assert pareto.constrained_dominates(bad, good)
    assert not pareto.constrained_dominates([0, 2], [1, 1])
    fronts = pareto.non_dominated_sort(np.array([[0, 0], [5, 5], [1, 1]]), violations=[0.3, 0, 0])
    assert fronts == [[2], [1], [0]]


def test_hypervolume_2d():
    ref = (10, 10)
    assert pareto.hypervolume_2d([[5, 5]], ref) == 25
    # Union of two rectangles: 5*8 + 2*3 ... computed by hand:
    # points (2,7) and (6,3): area = (10-2)*(10-7) + (10-6)*(7-3) = 24 + 16.
    assert pareto.hypervolume_2d([[6, 3], [2, 7]], ref) == 40
    # A dominated point and a point outside the reference add nothing.
    assert pareto.hypervolume_2d([[6, 3], [2, 7], [7, 8], [11, 1]], ref) == 40
