"""DATIS: distance-aware test input selection (Li et al., ISSTA 2024).

Li, Xu, Ji, Pan, Zhang, Wang, Li 2024, "Distance-Aware Test Input Selection for Deep
Neural Networks". With ``z`` the L2-normalised last-hidden features of an input and
``z_1..z_k`` its ``k`` nearest training features (Euclidean, labels ``y_i``):

    q_j(x) = sum_{i: y_i = j} exp(-||z - z_i||^2 / T) / sum_i exp(-||z - z_i||^2 / T)
    DATIS(x) = q_alt(x) / (q_pred(x) + 1e-15)

with ``pred`` the model's predicted class, ``alt`` the top class of ``q`` when it differs
from ``pred``, else the second class of ``q`` (ties: the lower class index, as
``np.argmax``). Higher = closer to another class's training data = selected first.

Matches the authors' ``DATIS_test_input_selection`` (public code): sklearn's
``Normalizer(norm="l2")`` (a zero row stays zero), ``KNeighborsClassifier(k)`` neighbours,
``exp(-sum((z - z_i)^2) / T)``, ``epsilon = 1e-15`` in the denominator, k = 100, T = 0.1.
Differences: neighbours come from the exact engine ``knn.knn`` (sklearn's search is
exact too; ties at the k-th distance may pick another of the tied traces); the authors'
budget-specific redundancy-elimination step (``DATIS_redundancy_elimination``) is not
applied, as the study orders the whole set once and retrains on growing prefixes; the
classes of the training neighbours are their labels (``train_labels``; the study's
workflow passes the ground-truth training labels, as the authors do).
``exclude_self`` leaves a target's own training trace out of its neighbours, as in DSA.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import DEFAULT_MEMORY_MB, as_surprise_inputs
from .knn import knn

#: The authors' epsilon in ``q_alt / (q_pred + epsilon)``.
EPSILON = 1e-15


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows divided by their Euclidean norm; zero rows stay zero (sklearn's ``Normalizer``)."""
    norm = np.sqrt(np.einsum("ij,ij->i", x, x))
    return x / np.where(norm > 0, norm, 1.0)[:, None]


def class_estimate(labels: np.ndarray, idx: np.ndarray, dist: np.ndarray, temperature: float,
                   n_classes: int) -> np.ndarray:
    """``q`` (targets x classes): the neighbours' ``exp(-d^2 / T)`` summed per label, normalised."""
    w = np.where(idx >= 0, np.exp(-(dist * dist) / float(temperature)), 0.0)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    flat = rows * n_classes + labels[np.maximum(idx, 0)].ravel()
    q = np.bincount(flat, weights=w.ravel(), minlength=idx.shape[0] * n_classes).reshape(idx.shape[0], n_classes)
    total = w.sum(axis=1, keepdims=True)
    return q / np.where(total > 0, total, 1.0)


def datis_from_estimate(q: np.ndarray, target_pred: np.ndarray) -> np.ndarray:
    """``q_alt / (q_pred + 1e-15)`` per row, ``alt`` as in the module docstring."""
    rows = np.arange(q.shape[0])
    top = np.argmax(q, axis=1)
    masked = q.copy()
    masked[rows, top] = -1.0
    second = np.argmax(masked, axis=1)
    alt = np.where(top == target_pred, second, top)
    return q[rows, alt] / (q[rows, target_pred] + EPSILON)


def datis(train_ats, train_labels, target_ats, target_pred, *, k: int = 100, temperature: float = 0.1,
          exclude_self=None, memory_mb: float = DEFAULT_MEMORY_MB, device="cpu", return_info: bool = False,
          progress=None):
    """DATIS score of each target (float64; see the module docstring for the definition).

    ``train_ats``/``target_ats``: last-hidden features (inputs x units), normalised here;
    ``train_labels``: the training inputs' classes; ``target_pred``: the model's predicted
    classes of the targets. ``k`` larger than the training set uses all of it.
    """
    train, labels, target, pred, excl = as_surprise_inputs(train_ats, train_labels, target_ats, target_pred,
                                                          exclude_self)
    if train.shape[0] == 0:
        raise DataError("train_ats: the reference set is empty")
    if not float(temperature) > 0:
        raise DataError(f"temperature: must be positive, got {temperature!r}")
    if labels.min(initial=0) < 0 or pred.min(initial=0) < 0:
        raise DataError("class labels must be non-negative integers")
    n_classes = int(max(labels.max(initial=0), pred.max(initial=0)) + 1)
    k_used = min(int(k), train.shape[0])
    idx, dist = knn(l2_normalise(target), l2_normalise(train), k_used, exclude=excl, memory_mb=memory_mb,
                    device=device, progress=progress, remeasure="product")
    scores = datis_from_estimate(class_estimate(labels, idx, dist, temperature, n_classes), pred)
    if not return_info:
        return scores
    return scores, {"metric": "datis", "k": int(k), "k_used": k_used, "temperature": float(temperature),
                    "n_classes": n_classes, "exclude_self": excl is not None}
