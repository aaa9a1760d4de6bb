"""``score``: one entry point from a metric name and its config to one score per input.

A lookup in the registry (``registry.METRICS``): options checked and completed there, the
metric's function called, its time and details recorded.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from ._common import LOG
from .registry import Inputs, metric, resolve_options


class Result(NamedTuple):
    """A metric's output: float64 scores (higher = first), the order itself for metrics that
    produce one (else None), and JSON-ready details."""

    scores: np.ndarray
    order: np.ndarray | None
    info: dict


def ranks_as_scores(order: np.ndarray) -> np.ndarray:
    """Scores of an order strategy: ``n - rank`` (distinct), so descending score = the order."""
    scores = np.empty(order.shape[0])
    scores[order] = order.shape[0] - np.arange(order.shape[0], dtype=np.float64)
    return scores


def prepare(kind: str, device="cpu") -> float:
    """Load, or on a machine's first use compile (numba, about 20 s, then cached beside the
    code), the CPU kernels that metric ``kind`` runs (the kNN engine's: DSA, DATIS, NNS), once
    per process, so that the metric's own time does not include it. Returns the seconds taken."""
    if not metric(kind).kernels:
        return 0.0
    from ..hardware import resolve_device

    if resolve_device(device).type != "cpu":
        return 0.0
    from ._knn_cpu import warm_up

    started = time.perf_counter()
    warm_up()
    return time.perf_counter() - started


def evaluate(kind: str, target: dict, reference: dict, options: dict | None = None, seed: int = 0,
             log: logging.Logger | None = None) -> Result:
    """Run metric ``kind`` on the ``target`` inputs (see ``registry.Inputs`` for the arrays);
    ``info["seconds"]`` is the metric's time, without compiling its kernels (``prepare``)."""
    m = metric(kind)
    opts = resolve_options(kind, options)
    inputs = Inputs(target, reference)
    prepare(kind, opts.get("device", "cpu"))
    started = time.perf_counter()
    values, info = m.compute(inputs, opts, seed, log)
    seconds = time.perf_counter() - started
    values = np.asarray(values)
    order = None
    if m.produces == "order":
        order = values.astype(np.int64)
        if not np.array_equal(np.sort(order), np.arange(len(inputs))):
            raise DataError(f"metric {kind!r} did not return a permutation of the {len(inputs)} inputs")
        values = ranks_as_scores(order)
        info = {**info, "scores_are_ranks": True,
                "note": "an order strategy: score = number of inputs - position in its order"}
    info = {**info, "kind": kind, "options": _jsonable(opts), "seconds": seconds, "n_scored": int(values.shape[0])}
    (log or LOG).info("%s: scored %d inputs in %.2f s", kind, info["n_scored"], seconds)
    return Result(np.asarray(values, dtype=np.float64), order, _jsonable(info))


def score(kind: str, target: dict, reference: dict, options: dict | None = None, seed: int = 0,
          log: logging.Logger | None = None) -> tuple[np.ndarray, dict]:
    """Scores of the ``target`` inputs for metric ``kind``: (float64 (N,), JSON-ready info).

    Higher = selected first (more surprising / uncertain / covering). ``target`` and
    ``reference`` hold numpy arrays: "probs" (N, C), "pred" (N,), "layer:<name>" (N, units),
    in ``target`` optionally "ref_index" (N,) (own index in the reference set or -1; needed
    with ``exclude_self``), in ``reference`` "label" (true labels; DATIS). ``options`` are the
    metric's config (``registry.METRICS[kind].options``).

    "margin" is returned as ``1 - margin`` (top-1 minus top-2 probability), so that the
    least confident inputs come first; "random" is ``random_scores(N, seed)``; order
    strategies (MCP) return ``N - position`` (``info["scores_are_ranks"]``).
    """
    result = evaluate(kind, target, reference, options, seed, log)
    return result.scores, result.info


def _jsonable(obj):
    """``obj`` with numpy scalars/arrays turned into Python numbers/lists (non-finite floats as strings)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)
    return obj
