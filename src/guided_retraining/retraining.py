"""The study's retraining configurations and data points (REPLICATION.md, "Study grid").

- C1: new random weights, trained on a prefix of Train* = Train + Adv.Train ordered by the metric.
- C2: the original model's weights, trained on a prefix of Train* ordered by the metric.
- C3: the original model's weights, trained on a prefix of Adv.Train ordered by the metric.

Data point k of n uses the first ``round(k * T / n)`` inputs of the ordered set of size T,
or ``min(k * step, T)`` with a fixed ``step`` as the study's per-dataset steps (MNIST: 2,800
for C1/C2, 340 for C3); the last point is always the whole set. Every point starts from its
own initial weights.
"""

from __future__ import annotations

import numpy as np

CONFIGURATIONS = {
    "C1": {"from_original": False, "adversarial_only": False},
    "C2": {"from_original": True, "adversarial_only": False},
    "C3": {"from_original": True, "adversarial_only": True},
}


def point_size(k: int, n_points: int, total: int, step: int | None = None) -> int:
    """Inputs used at data point ``k`` (1-based) of ``n_points`` over ``total`` available inputs."""
    if not 1 <= k <= n_points:
        raise ValueError(f"data point {k} outside 1..{n_points}")
    if k == n_points:
        return int(total)
    if step:
        return int(min(k * step, total))
    return int(np.floor(k * total / n_points + 0.5))


def pool(order: np.ndarray, n_train: int, configuration: str) -> np.ndarray:
    """Indices into Train* that ``configuration`` may use, in metric order.

    ``order`` is the metric's permutation of Train* (train inputs are 0..n_train-1,
    adversarial inputs follow); C3 keeps only the adversarial ones, in the same order.
    """
    if CONFIGURATIONS[configuration]["adversarial_only"]:
        return order[order >= n_train]
    return order


def selection(order: np.ndarray, n_train: int, configuration: str, k: int, n_points: int,
              step: int | None = None) -> np.ndarray:
    """Indices into Train* of the inputs used at data point ``k``."""
    candidates = pool(order, n_train, configuration)
    return candidates[: point_size(k, n_points, len(candidates), step)]


def order_by_scores(scores: np.ndarray) -> np.ndarray:
    """Descending score; ties keep the input order (stable), so the order is deterministic."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable").astype(np.int64)
