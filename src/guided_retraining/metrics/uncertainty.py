"""Uncertainty metrics on the softmax output (one score per input, no reference set).

All take ``probs``, a 2-D array (inputs x classes) of softmax outputs, and return float64.
"""

from __future__ import annotations

import numpy as np

from ._common import as_probs


def deepgini(probs) -> np.ndarray:
    """DeepGini impurity ``1 - sum_i p_i^2`` (Feng et al. 2020, "DeepGini: prioritizing
    massive tests to enhance the robustness of deep neural networks").

    Larger = more uncertain: 0 for a one-hot output, ``1 - 1/C`` for the uniform one.
    """
    p = as_probs(probs)
    return 1.0 - np.einsum("ij,ij->i", p, p)


def softmax_entropy(probs) -> np.ndarray:
    """Shannon entropy of the softmax output in bits, ``-sum_i p_i log2 p_i`` with 0 log 0 = 0.

    (Weiss & Tonella 2022, "Simple techniques work surprisingly well for neural network
    test prioritization and active learning"; the study's "softmax entropy".)
    """
    p = as_probs(probs)
    logs = np.zeros_like(p)
    np.log2(p, out=logs, where=p > 0)
    return -np.einsum("ij,ij->i", p, logs) + 0.0  # + 0.0 turns -0.0 into 0.0


def margin(probs) -> np.ndarray:
    """Margin ``p_(1) - p_(2)``: top-1 minus top-2 probability (raw: larger = MORE confident).

    (Weiss & Tonella 2022; "difference of the two top predictions".) For an ordering with
    the most uncertain first, ``score("margin", ...)`` returns ``1 - margin``.
    With one class the margin is ``p_(1)``.
    """
    p = as_probs(probs)
    if p.shape[1] == 1:
        return p[:, 0].copy()
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]


def least_confidence(probs) -> np.ndarray:
    """Least confidence ``1 - max_i p_i`` (Weiss & Tonella 2022; larger = more uncertain)."""
    p = as_probs(probs)
    return 1.0 - p.max(axis=1)


def random_scores(n: int, seed: int) -> np.ndarray:
    """Random baseline: ``np.random.default_rng(seed).random(n)`` (float64 in [0, 1)).

    Ordering by descending random scores is a seeded random permutation.
    """
    return np.random.default_rng(int(seed)).random(int(n))
