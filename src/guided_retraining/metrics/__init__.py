"""Guidance metrics: score each input so that descending scores give the retraining order.

Public API (DESIGN.md), numpy in, float64 numpy out; torch is imported only inside the
chunked metrics (DSA, LSA) and MC dropout:

* surprise adequacy: ``dsa``, ``lsa`` (Kim et al. 2019), ``mdsa`` (Kim et al. 2020);
* coverage: ``nc`` (Pei et al. 2017), ``kmnc``, ``nbc`` (Ma et al. 2018);
* uncertainty: ``deepgini`` (Feng et al. 2020), ``softmax_entropy``, ``margin``,
  ``least_confidence``, ``mc_dropout_variation_ratio`` (Weiss & Tonella 2022);
* ``random_scores``; the workflow's dispatcher ``score(kind, target, reference, options)``.
"""

from .coverage import kmnc, nbc, nc
from .dispatch import LAYER_METRICS, METRIC_KINDS, METRIC_OPTIONS, MODEL_METRICS, resolve_options, score
from .dropout import mc_dropout_variation_ratio
from .dsa import dsa
from .lsa import lsa
from .mdsa import mdsa
from .uncertainty import deepgini, least_confidence, margin, random_scores, softmax_entropy

__all__ = [
    "LAYER_METRICS", "METRIC_KINDS", "METRIC_OPTIONS", "MODEL_METRICS", "deepgini", "dsa",
    "kmnc", "least_confidence", "lsa", "margin", "mc_dropout_variation_ratio", "mdsa", "nbc",
    "nc", "random_scores", "resolve_options", "score", "softmax_entropy",
]
