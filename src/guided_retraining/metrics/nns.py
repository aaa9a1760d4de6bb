"""NNS: nearest-neighbour smoothing of an uncertainty score (Bao et al., ISSTA 2023).

Bao, Sha, Chen, Peng, Zhao 2023, "In Defense of Simple Techniques for Neural Network Test
Case Selection": besides the model's uncertainty on an input, take into account its
uncertainty on the input's neighbours. With ``p(x)`` the softmax output and
``N_k(x)`` the ``k`` nearest OTHER inputs of the set being prioritised in feature space
(the chosen layer's activations, Euclidean), the smoothed output is

    p~(x) = alpha p(x) + (1 - alpha) sum_{x' in N_k(x)} w(x, x') p(x')

with uniform weights ``w = 1/k`` (``weighting="uniform"``) or normalised inverse distances
``w ~ 1 / (d(x, x') + 1e-8)`` (``"inverse_distance"``), and the score is an uncertainty
metric of ``p~`` (DeepGini by default; entropy, least confidence or ``1 - margin``).
Neighbours are searched with the exact engine ``knn.knn``.

Sources and what is not settled: the authors published no code; this follows the paper's
description (the uncertainty of an input's neighbours among the inputs being prioritised,
smoothing the output as in Bahri & Jiang's k-NN label smoothing, which it cites) and a
public reimplementation from that description, whose defaults (k = 10, alpha = 0.5,
DeepGini; "same as NNS & FAST") are ours. That reimplementation searches neighbours among
the probability vectors by cosine distance and weights them by inverse distance; here the
feature space is the configured layer (Euclidean) and the weighting an option. The issue's
reading that NNS searches the training traces is not the paper's: neighbours are the
other scored inputs.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import DEFAULT_MEMORY_MB, as_ats, as_probs
from .knn import knn
from .uncertainty import priority

WEIGHTINGS = ("uniform", "inverse_distance")


def smoothed_probs(probs: np.ndarray, idx: np.ndarray, dist: np.ndarray, alpha: float, weighting: str) -> np.ndarray:
    """``alpha p(x) + (1 - alpha) sum_j w_j p(x_j)`` over each row's neighbours ``idx``."""
    if weighting not in WEIGHTINGS:
        raise DataError(f"weighting: {weighting!r} is not one of {', '.join(WEIGHTINGS)}")
    valid = idx >= 0
    w = valid / (dist + 1e-8) if weighting == "inverse_distance" else valid.astype(np.float64)
    total = w.sum(axis=1, keepdims=True)
    w = w / np.where(total > 0, total, 1.0)
    neighbours = np.einsum("ij,ijc->ic", w, probs[np.maximum(idx, 0)])
    return alpha * probs + (1.0 - alpha) * neighbours


def nns(ats, probs, *, k: int = 10, alpha: float = 0.5, uncertainty: str = "deepgini", weighting: str = "uniform",
        memory_mb: float = DEFAULT_MEMORY_MB, device="cpu", return_info: bool = False, progress=None):
    """NNS score of each input of the set (float64); ``ats`` (inputs x units) are the
    features the neighbours are searched in, ``probs`` (inputs x classes) the softmax outputs."""
    x = as_ats("ats", ats)
    p = as_probs(probs)
    if p.shape[0] != x.shape[0]:
        raise DataError(f"probs: {p.shape[0]} rows but ats has {x.shape[0]}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise DataError(f"alpha: must lie in [0, 1], got {alpha!r}")
    n = x.shape[0]
    k_used = min(int(k), max(n - 1, 0))
    idx, dist = knn(x, x, k_used, exclude=np.arange(n), memory_mb=memory_mb, device=device, progress=progress,
                    remeasure="product")
    scores = priority(uncertainty, smoothed_probs(p, idx, dist, float(alpha), weighting))
    if not return_info:
        return scores
    return scores, {"metric": "nns", "k": int(k), "k_used": k_used, "alpha": float(alpha),
                    "uncertainty": uncertainty, "weighting": weighting}
