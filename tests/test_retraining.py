"""Data points, configurations and ordering on hand-checkable cases."""

import numpy as np
import pytest

from guided_retraining.errors import ConfigError
from guided_retraining.retraining import (budget_point, budget_size, is_budget, is_regular, order_by_scores,
                                          parse_budget, point_size, pool, selection)


def test_point_sizes_grow_to_the_whole_set():
    assert [point_size(k, 4, 10) for k in range(1, 5)] == [3, 5, 8, 10]  # 2.5 -> 3 (half up), 5, 7.5 -> 8, 10
    assert [point_size(k, 20, 55998) for k in (1, 20)] == [2800, 55998]
    assert [point_size(k, 20, 6999, step=340) for k in (1, 19, 20)] == [340, 6460, 6999]
    assert point_size(3, 4, 10, step=4) == 10  # capped at the total
    with pytest.raises(ValueError):
        point_size(0, 20, 100)


def test_order_is_descending_with_ties_in_a_seeded_random_order():
    scores = np.array([0.1, 0.5, 0.5, 0.2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    order, n_tied = order_by_scores(scores, seed=3)
    assert n_tied == 8 and order[-2:].tolist() == [3, 0]  # 8 inputs share 0.5; then 0.2, then 0.1
    assert sorted(order[:8].tolist()) == [1, 2, 4, 5, 6, 7, 8, 9]
    again, _ = order_by_scores(scores, seed=3)
    assert np.array_equal(order, again)  # reproducible
    tied_orders = {tuple(order_by_scores(scores, seed=s)[0][:8]) for s in range(20)}
    assert len(tied_orders) > 10  # randomised: not the input order
    distinct, none_tied = order_by_scores(np.array([0.3, 0.1, 0.2]), seed=0)
    assert distinct.tolist() == [0, 2, 1] and none_tied == 0


def test_configurations_draw_from_their_pools():
    order = np.array([5, 0, 4, 1, 3, 2])  # Train* of 4 train inputs (0-3) and 2 adversarial (4, 5)
    assert pool(order, 4, "C1").tolist() == [5, 0, 4, 1, 3, 2]
    assert pool(order, 4, "C2").tolist() == [5, 0, 4, 1, 3, 2]
    assert pool(order, 4, "C3").tolist() == [5, 4]
    assert selection(order, 4, "C2", 1, 3).tolist() == [5, 0]
    assert selection(order, 4, "C3", 1, 2).tolist() == [5]
    assert selection(order, 4, "C3", 2, 2).tolist() == [5, 4]


def test_budget_points_name_and_size_a_budget():
    assert [budget_point(b) for b in (0.05, 0.1, 0.25, 1.0, 500, np.int64(7))] == ["f0.05", "f0.1", "f0.25", "f1",
                                                                                    "n500", "n7"]
    assert parse_budget("f0.05") == ("fraction", 0.05) and parse_budget("n500") == ("count", 500)
    assert [budget_size("f0.05", 1437), budget_size("f0.5", 180), budget_size("f0.001", 100)] == [72, 90, 1]
    assert budget_size("n30", 180) == 30 and budget_size("f1", 180) == 180
    with pytest.raises(ConfigError, match="aggregate.budgets: a budget of 30 inputs exceeds the 20 inputs available"):
        budget_size("n30", 20)
    for bad in (0.0, 1.5, -3, True, "half"):
        with pytest.raises(ValueError):
            budget_point(bad)
    assert [is_budget(p) for p in ("f0.05", "n500", "p3", "atc3")] == [True, True, False, False]
    assert [is_regular(p) for p in ("f0.05", "n500", "p3", "atc3")] == [False, False, True, False]
