"""``score``: one entry point from a metric name and its config to one score per input."""

from __future__ import annotations

import logging
import time

import numpy as np

from ..errors import ConfigError, DataError
from ._common import DEFAULT_MEMORY_MB, LOG

METRIC_KINDS = ("nc", "lsa", "dsa", "deepgini", "softmax_entropy", "random", "margin",
                "least_confidence", "mdsa", "kmnc", "nbc", "mc_dropout")

#: Metrics that need the model itself: call ``mc_dropout_variation_ratio`` directly.
MODEL_METRICS = frozenset({"mc_dropout"})

_SURPRISE = {"memory_mb": DEFAULT_MEMORY_MB, "device": "cpu"}

#: Allowed option keys of each metric and their defaults (the study's values).
#: ``layers`` (None here) must be given for the metrics on activations.
METRIC_OPTIONS: dict[str, dict[str, object]] = {
    "nc": {"layers": None, "threshold": 0.2, "scaling": "input", "memory_mb": DEFAULT_MEMORY_MB},
    "lsa": {"layers": None, "var_threshold": 1e-5, "var_filter": "union", "exclude_self": False,
            "reference": "train", **_SURPRISE},
    "dsa": {"layers": None, "exclude_self": False, "reference": "train", **_SURPRISE},
    "deepgini": {},
    "softmax_entropy": {},
    "random": {},
    "margin": {},
    "least_confidence": {},
    "mdsa": {"layers": None},
    "kmnc": {"layers": None, "k": 1000},
    "nbc": {"layers": None},
    "mc_dropout": {"n_samples": 20, "batch_size": 256, "device": "cpu"},
}

#: Reference sets of the surprise metrics (chosen by the caller, e.g. scripts/score.py): ``train``
#: (the study's: Train's traces, which overlap the scored Train*; see ``exclude_self``) or
#: ``validation`` (the validation split's traces: disjoint from Train*).
REFERENCES = ("train", "validation")

LAYER_METRICS = frozenset(k for k, v in METRIC_OPTIONS.items() if "layers" in v)


def resolve_options(kind: str, options: dict | None) -> dict:
    """``options`` checked against ``METRIC_OPTIONS[kind]`` and completed with defaults."""
    if kind not in METRIC_KINDS:
        raise ConfigError(f"metric kind {kind!r} is not one of {', '.join(METRIC_KINDS)}")
    allowed = METRIC_OPTIONS[kind]
    options = dict(options or {})
    for key in options:
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise ConfigError(f"metrics option {key!r} is not allowed for {kind!r}; allowed: {names}")
    merged = {**allowed, **options}
    if "layers" in merged:
        layers = merged["layers"]
        if isinstance(layers, str):
            layers = [layers]
        if not layers or not all(isinstance(n, str) for n in layers):
            raise ConfigError(f"layers: metric {kind!r} needs a list of layer names, got {layers!r}")
        merged["layers"] = list(layers)
    if "exclude_self" in merged and not isinstance(merged["exclude_self"], bool):
        raise ConfigError(f"exclude_self: must be true or false, got {merged['exclude_self']!r}")
    if "reference" in merged:
        check_reference(merged["reference"])
    return merged


def check_reference(value, key: str = "reference") -> None:
    """One-line ConfigError naming ``key`` unless ``value`` is one of :data:`REFERENCES`."""
    if value not in REFERENCES:
        raise ConfigError(f"{key}: {value!r} is not allowed; choose one of {', '.join(REFERENCES)}")


def score(kind: str, target: dict, reference: dict, options: dict | None = None, seed: int = 0,
          log: logging.Logger | None = None) -> tuple[np.ndarray, dict]:
    """Scores of the ``target`` inputs for metric ``kind``: (float64 (N,), JSON-ready info).

    Higher = selected first (more surprising / uncertain / covering). ``target`` and
    ``reference`` hold numpy arrays: "probs" (N, C), "pred" (N,), "layer:<name>" (N, units)
    and, in ``target``, optionally "ref_index" (N,) (own index in the reference set or -1;
    needed with ``exclude_self``). ``options`` are the metric's config (``METRIC_OPTIONS``).

    "margin" is returned as ``1 - margin`` (top-1 minus top-2 probability), so that the
    least confident inputs come first; "random" is ``random_scores(N, seed)``.
    """
    if kind in MODEL_METRICS:
        raise ConfigError(f"metric {kind!r} needs the model: call mc_dropout_variation_ratio(model, inputs, ...)")
    opts = resolve_options(kind, options)
    from . import coverage, uncertainty
    from .dsa import dsa
    from .lsa import lsa
    from .mdsa import mdsa

    started = time.perf_counter()
    info: dict = {}
    if kind in ("deepgini", "softmax_entropy", "margin", "least_confidence"):
        probs = _get(target, "probs", "target")
        scores = getattr(uncertainty, kind)(probs)
        if kind == "margin":
            scores = 1.0 - scores
            info["note"] = "score = 1 - margin (top-1 minus top-2 probability)"
    elif kind == "random":
        scores = uncertainty.random_scores(_length(target), seed)
        info["seed"] = int(seed)
    elif kind == "nc":
        layers = [_get(target, f"layer:{n}", "target") for n in opts["layers"]]
        ranges = None
        if opts["scaling"] == "train":
            ref = np.concatenate([_get(reference, f"layer:{n}", "reference") for n in opts["layers"]], axis=1)
            ranges = (ref.min(axis=0), ref.max(axis=0))
        scores = coverage.nc(layers, opts["threshold"], scaling=opts["scaling"], train_ranges=ranges,
                             memory_mb=opts["memory_mb"])
    else:
        t_ats = _ats(target, opts["layers"], "target")
        r_ats = _ats(reference, opts["layers"], "reference")
        if kind in ("kmnc", "nbc"):
            scores = coverage.kmnc(r_ats, t_ats, k=opts["k"]) if kind == "kmnc" else coverage.nbc(r_ats, t_ats)
        else:
            t_pred = _get(target, "pred", "target")
            r_pred = _get(reference, "pred", "reference")
            if kind == "mdsa":
                scores, info = mdsa(r_ats, r_pred, t_ats, t_pred, return_info=True)
            else:
                excl = None
                if opts["exclude_self"]:
                    excl = _get(target, "ref_index", "target")
                common = dict(exclude_self=excl, memory_mb=opts["memory_mb"], device=opts["device"],
                              return_info=True, log=log)
                if kind == "dsa":
                    scores, info = dsa(r_ats, r_pred, t_ats, t_pred, **common)
                else:
                    scores, info = lsa(r_ats, r_pred, t_ats, t_pred, opts["var_threshold"],
                                               var_filter=opts["var_filter"], **common)
    seconds = time.perf_counter() - started
    info = {**info, "kind": kind, "options": _jsonable(opts), "seconds": seconds,
            "n_scored": int(np.asarray(scores).shape[0])}
    (log or LOG).info("%s: scored %d inputs in %.2f s", kind, info["n_scored"], seconds)
    return np.asarray(scores, dtype=np.float64), _jsonable(info)


def _get(arrays: dict, key: str, name: str) -> np.ndarray:
    if key not in arrays:
        have = ", ".join(sorted(arrays)) or "nothing"
        raise DataError(f"{name} arrays lack {key!r} (have: {have})")
    return np.asarray(arrays[key])


def _ats(arrays: dict, layers: list[str], name: str) -> np.ndarray:
    parts = [_get(arrays, f"layer:{n}", name) for n in layers]
    parts = [p.reshape(p.shape[0], -1) for p in parts]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _length(arrays: dict) -> int:
    for key in ("pred", "probs"):
        if key in arrays:
            return int(np.asarray(arrays[key]).shape[0])
    for value in arrays.values():
        return int(np.asarray(value).shape[0])
    raise DataError("target arrays are empty: cannot tell how many inputs to score")


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
