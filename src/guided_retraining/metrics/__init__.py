"""Guidance metrics: score each input so that descending scores give the retraining order.

Public API (stable: tests and users call these), numpy in, float64 numpy out; torch is imported only inside the
chunked metrics (DSA, LSA, DATIS, NNS) and MC dropout:

* surprise adequacy: ``dsa``, ``lsa`` (Kim et al. 2019), ``mdsa``, ``mlsa`` (Kim et al. 2020);
* coverage: ``nc`` (Pei et al. 2017), ``kmnc``, ``nbc`` (Ma et al. 2018);
* uncertainty: ``deepgini`` (Feng et al. 2020), ``softmax_entropy``, ``margin``,
  ``least_confidence``, ``mc_dropout_variation_ratio`` (Weiss & Tonella 2022);
* neighbourhoods: ``datis`` (Li et al. 2024), ``nns`` (Bao et al. 2023); an order: ``mcp_order``
  (Shen et al. 2020);
* ``random_scores``; the registry ``METRICS`` (every metric declared once) and the
  workflow's dispatcher ``score(kind, target, reference, options)``.
"""

from .coverage import kmnc, nbc, nc
from .datis import datis
from .dispatch import Result, evaluate, prepare, score
from .dropout import mc_dropout_variation_ratio
from .dsa import dsa
from .lsa import lsa
from .mcp import mcp_order
from .mdsa import mdsa
from .mlsa import mlsa
from .nns import nns
from .registry import (LAYER_METRICS, METRIC_KINDS, METRIC_OPTIONS, METRICS, MODEL_METRICS, ORDER_METRICS, READS,
                       Metric, Option, charged_inputs, register, resolve_options,
                       train_star_inputs)
from .uncertainty import deepgini, least_confidence, margin, random_scores, softmax_entropy

__all__ = [
    "LAYER_METRICS", "METRICS", "METRIC_KINDS", "METRIC_OPTIONS", "MODEL_METRICS", "Metric", "ORDER_METRICS", "Option",
    "READS", "Result", "register",
    "charged_inputs", "datis", "deepgini", "dsa", "evaluate", "kmnc", "least_confidence", "lsa", "margin", "mc_dropout_variation_ratio",
    "mcp_order", "mdsa", "mlsa", "nbc", "nc", "nns", "prepare", "random_scores", "resolve_options", "score",
    "softmax_entropy", "train_star_inputs",
]
