"""Uncertainty metrics on the softmax output (one score per input, no reference set).

All take ``probs``, a 2-D array (inputs x classes) of softmax outputs, and return float64.
The workflow computes ``probs`` from the network's logits in float64 through the log-softmax
(:func:`probabilities`), and the metrics use ``rest = sum of the non-top probabilities`` rather
than ``1 - p_top``: a confident input (logit gap 20: rest about 2e-9) keeps a distinct, non-zero
score, where float32 softmax outputs round p_top to exactly 1 and the score to 0.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import as_probs


def probabilities(logits) -> np.ndarray:
    """Softmax probabilities from logits in float64 via the log-softmax ``z - logsumexp(z)``
    (no overflow; probabilities down to about 1e-308 instead of float32's rounding to 0 and 1)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"logits: expected a 2-D array (inputs x classes), got shape {z.shape}")
    top = z.max(axis=1, keepdims=True) if z.size else z[:, :1]
    shifted = z - top
    return np.exp(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


def _top_and_rest(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the top class, its probability and the sum of the other probabilities (not 1 - p_top)."""
    top = p.argmax(axis=1)
    rows = np.arange(len(p))
    others = p.copy()
    others[rows, top] = 0.0
    return top, p[rows, top], others.sum(axis=1)


def deepgini(probs) -> np.ndarray:
    """DeepGini impurity ``1 - sum_i p_i^2`` (Feng et al. 2020, "DeepGini: prioritizing
    massive tests to enhance the robustness of deep neural networks").

    Larger = more uncertain: 0 for a one-hot output, ``1 - 1/C`` for the uniform one.
    Computed as ``sum_i p_i (1 - p_i)`` with ``1 - p_top`` taken as the sum of the other
    probabilities, so that confident inputs keep distinct scores.
    """
    p = as_probs(probs)
    if not p.size:
        return np.zeros(len(p))
    top, p_top, rest = _top_and_rest(p)
    terms = p * (1.0 - p)
    terms[np.arange(len(p)), top] = p_top * rest
    return terms.sum(axis=1)


def softmax_entropy(probs) -> np.ndarray:
    """Shannon entropy of the softmax output in bits, ``-sum_i p_i log2 p_i`` with 0 log 0 = 0.

    (Weiss & Tonella 2022, "Simple techniques work surprisingly well for neural network
    test prioritization and active learning"; the study's "softmax entropy".)
    """
    p = as_probs(probs)
    logs = np.zeros_like(p)
    np.log2(p, out=logs, where=p > 0)
    if p.size:  # log2 p_top from the other probabilities: log1p(-rest), exact for confident inputs
        top, _, rest = _top_and_rest(p)
        logs[np.arange(len(p)), top] = np.log1p(-np.minimum(rest, 1.0)) / np.log(2.0)
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
    """Least confidence ``1 - max_i p_i`` (Weiss & Tonella 2022; larger = more uncertain), taken as the
    sum of the non-top probabilities."""
    p = as_probs(probs)
    if not p.size:
        return np.zeros(len(p))
    return _top_and_rest(p)[2]


def random_scores(n: int, seed: int) -> np.ndarray:
    """Random baseline: ``np.random.default_rng(seed).random(n)`` (float64 in [0, 1)).

    Ordering by descending random scores is a seeded random permutation.
    """
    return np.random.default_rng(int(seed)).random(int(n))


#: Uncertainty metrics as priorities (larger = more uncertain = first).
PRIORITIES = ("deepgini", "softmax_entropy", "least_confidence", "margin")


def priority(name: str, probs) -> np.ndarray:
    """Uncertainty metric ``name`` of ``probs`` as a priority: margin as ``1 - margin``."""
    if name not in PRIORITIES:
        raise DataError(f"uncertainty: {name!r} is not one of {', '.join(PRIORITIES)}")
    fn = {"deepgini": deepgini, "softmax_entropy": softmax_entropy, "least_confidence": least_confidence,
          "margin": margin}[name]
    return 1.0 - fn(probs) if name == "margin" else fn(probs)
