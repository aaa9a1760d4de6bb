"""The metric registry: every metric declared once.

Each ``Metric`` says what it is (a README row: what it scores, from which paper), its
options (defaults, types and ranges, checked before any job runs), what it reads
(``READS``) and the function that computes it. Everything else is derived from here:
the dispatcher (``dispatch.score``), the config checks (``resolve_options``), the score
rule's inputs, the schema's metric kinds and options and the metric table of docs/metrics.md
(both checked against the registry by tests/test_metric_registry.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError, DataError
from ._common import DEFAULT_MEMORY_MB
from .uncertainty import PRIORITIES

#: What a metric may read. "probabilities": the softmax outputs of the scored inputs;
#: "layers": activations of the configured layers (scored and reference inputs);
#: "reference": the reference (training) inputs' traces and predicted classes;
#: "labels": the reference inputs' true labels; "model": the model and the scored images.
READS = ("probabilities", "layers", "reference", "labels", "model")


@dataclass(frozen=True)
class Option:
    """One option of a metric: default, type ("number", "integer", "boolean", "choice",
    "layers", "device") and range (``low``/``high``, ``low_open``: ``> low``)."""

    default: Any
    type: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple = ()

    def expected(self) -> str:
        """What the option takes, in words (for messages and the README)."""
        if self.type == "boolean":
            return "true or false"
        if self.type == "choice":
            return "one of " + ", ".join(map(repr, self.choices))
        if self.type == "layers":
            return "a list of layer names"
        if self.type == "device":
            return "'cpu', 'cuda', 'cuda:N' or 'auto'"
        noun = "an integer" if self.type == "integer" else "a number"
        if self.low is not None and self.high is not None:
            return f"{noun} in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}]"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {_num(self.low)}"
        return noun

    def check(self, where: str, value):
        """``value`` checked (ConfigError naming ``where``) and normalised."""
        bad = ConfigError(f"{where}: expected {self.expected()}, got {value!r}")
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise bad
            return value
        if self.type == "choice":
            if value not in self.choices:
                raise bad
            return value
        if self.type == "layers":
            layers = [value] if isinstance(value, str) else value
            if not isinstance(layers, (list, tuple)) or not layers or not all(isinstance(n, str) and n for n in layers):
                raise bad
            return list(layers)
        if self.type == "device":
            if not isinstance(value, str) or not (value in ("cpu", "cuda", "auto") or
                                                  (value.startswith("cuda:") and value[5:].isdigit())):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad
        if self.type == "integer" and not float(value).is_integer():
            raise bad
        if not math.isfinite(float(value)):
            raise bad
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            raise bad
        if self.high is not None and value > self.high:
            raise bad
        return int(value) if self.type == "integer" else value

    def json_type(self) -> str:
        """The option's JSON-schema type."""
        return {"number": "number", "integer": "integer", "boolean": "boolean", "layers": "array"}.get(
            self.type, "string")


def _num(x) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Metric:
    """A metric: its kind, what it scores (README), its paper, options, reads and function.

    ``compute(inputs, options, seed, log)`` returns ``(values, info)``: one score per
    scored input, or (``produces="order"``) the permutation of the scored inputs itself.
    """

    kind: str
    summary: str
    paper: str
    compute: Callable
    reads: frozenset
    options: dict = field(default_factory=dict)
    produces: str = "scores"
    kernels: bool = False  # runs the kNN engine's compiled CPU kernels (``dispatch.prepare``)


def train_star_inputs(target: dict, n_train: int, idx_adv_train) -> tuple[dict, dict]:
    """The study's (target, reference) from Train*'s arrays (Train, then Adv.Train): the
    reference is Train (the first ``n_train`` rows); ``target["ref_index"]`` is each input's own
    row there, a clean input itself and an adversarial input its clean source."""
    n_train = int(n_train)
    reference = {k: v[:n_train] for k, v in target.items()}
    target = {**target, "ref_index": np.concatenate([np.arange(n_train), idx_adv_train]).astype(np.int64)}
    return target, reference


def charged_inputs(kind: str, options: dict, layers) -> list[str]:
    """The forward passes a metric reads, the ones Table 5 charges it (the study's Table 5 timed each
    metric with what it computes from the model: the traces for NC, LSA, DSA, the softmax outputs for
    DeepGini and entropy, nothing for random).

    ``"<layer>"``: the layer's traces of Train* (with the predicted classes of the same pass);
    ``"<layer>:validation"``: the validation split's traces (read only as the reference set,
    ``reference: validation``); ``"softmax"``: the softmax outputs of Train* (``probabilities`` in
    its reads). A metric reading neither (random; MC dropout, whose own passes are in its time) is
    charged nothing.
    """
    reads = metric(kind).reads
    charged = []
    if "layers" in reads:
        charged += list(layers)
        if options.get("reference") == "validation":
            charged += [f"{layer}:validation" for layer in layers]
    if "probabilities" in reads:
        charged.append("softmax")
    return charged


class Inputs:
    """The arrays a metric reads: ``target`` (scored inputs) and ``reference`` dicts with
    "probs", "pred", "layer:<name>", in ``target`` "ref_index" (own reference index or -1)
    and, where read, "model"/"inputs"; in ``reference`` "label"."""

    def __init__(self, target: dict, reference: dict):
        self.target, self.reference = target, reference

    def get(self, key: str, which: str = "target") -> np.ndarray:
        arrays = self.target if which == "target" else self.reference
        if key not in arrays:
            have = ", ".join(sorted(arrays)) or "nothing"
            raise DataError(f"{which} arrays lack {key!r} (have: {have})")
        return arrays[key] if key == "model" else np.asarray(arrays[key])

    def ats(self, layers: list[str], which: str = "target") -> np.ndarray:
        parts = [self.get(f"layer:{n}", which) for n in layers]
        parts = [p.reshape(p.shape[0], -1) for p in parts]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def __len__(self) -> int:
        for key in ("pred", "probs"):
            if key in self.target:
                return int(np.asarray(self.target[key]).shape[0])
        for key, value in self.target.items():
            if key != "model":
                return int(np.asarray(value).shape[0])
        raise DataError("target arrays are empty: cannot tell how many inputs to score")


# ---- the functions: thin adapters from (inputs, options) to the library's metrics ----------

def _uncertainty(name):
    def compute(inp, o, seed, log):
        from .uncertainty import priority

        note = {"note": "score = 1 - margin (top-1 minus top-2 probability)"} if name == "margin" else {}
        return priority(name, inp.get("probs")), note
    return compute


def _random(inp, o, seed, log):
    from .uncertainty import random_scores

    return random_scores(len(inp), seed), {"seed": int(seed)}


def _nc(inp, o, seed, log):
    from .coverage import nc

    ranges = None
    if o["scaling"] == "train":
        ref = inp.ats(o["layers"], "reference")
        ranges = (ref.min(axis=0), ref.max(axis=0))
    layers = [inp.get(f"layer:{n}") for n in o["layers"]]
    return nc(layers, o["threshold"], scaling=o["scaling"], train_ranges=ranges, memory_mb=o["memory_mb"]), {}


def _coverage(name):
    def compute(inp, o, seed, log):
        from . import coverage

        extra = {"k": o["k"]} if name == "kmnc" else {}
        return getattr(coverage, name)(inp.ats(o["layers"], "reference"), inp.ats(o["layers"]), **extra), {}
    return compute


def _surprise_args(inp, o):
    return inp.ats(o["layers"], "reference"), inp.get("pred", "reference"), inp.ats(o["layers"]), inp.get("pred")


def _exclude(inp, o):
    return inp.get("ref_index") if o.get("exclude_self") else None


def _chunked(o, log):
    return dict(memory_mb=o["memory_mb"], device=o["device"], return_info=True, log=log)


def _dsa(inp, o, seed, log):
    from .dsa import dsa

    return dsa(*_surprise_args(inp, o), exclude_self=_exclude(inp, o), **_chunked(o, log))


def _lsa(inp, o, seed, log):
    from .lsa import lsa

    return lsa(*_surprise_args(inp, o), o["var_threshold"], var_filter=o["var_filter"],
               exclude_self=_exclude(inp, o), **_chunked(o, log))


def _mdsa(inp, o, seed, log):
    from .mdsa import mdsa

    return mdsa(*_surprise_args(inp, o), variant=o["variant"], return_info=True)


def _mlsa(inp, o, seed, log):
    from .mlsa import mlsa

    return mlsa(*_surprise_args(inp, o), n_components=o["n_components"], seed=seed, reg_covar=o["reg_covar"],
                max_iter=o["max_iter"], return_info=True)


def _progress(inp, label, log):
    from ..progress import Progress

    return Progress(len(inp), label, log) if log else None


def _datis(inp, o, seed, log):
    from .datis import datis

    train_ats, _, target_ats, pred = _surprise_args(inp, o)
    return datis(train_ats, inp.get("label", "reference"), target_ats, pred, k=o["k"], temperature=o["temperature"],
                 exclude_self=_exclude(inp, o), memory_mb=o["memory_mb"], device=o["device"], return_info=True,
                 progress=_progress(inp, "datis nearest neighbours", log))


def _nns(inp, o, seed, log):
    from .nns import nns

    return nns(inp.ats(o["layers"]), inp.get("probs"), k=o["k"], alpha=o["alpha"], uncertainty=o["uncertainty"],
               weighting=o["weighting"], memory_mb=o["memory_mb"], device=o["device"], return_info=True,
               progress=_progress(inp, "nns nearest neighbours", log))


def _mcp(inp, o, seed, log):
    from .mcp import mcp_order

    return mcp_order(inp.get("probs")), {}


def _mc_dropout(inp, o, seed, log):
    from .dropout import mc_dropout_variation_ratio

    if "model" not in inp.target:
        raise ConfigError("metric 'mc_dropout' needs the model: pass target['model'] and target['inputs'] "
                          "or call mc_dropout_variation_ratio(model, inputs, ...)")
    return mc_dropout_variation_ratio(inp.get("model"), inp.get("inputs"), n_samples=o["n_samples"], seed=seed,
                                      batch_size=o["batch_size"], device=o["device"]), {}


# ---- the registry ----------------------------------------------------------------------

LAYERS = Option(None, "layers")
MEMORY = Option(DEFAULT_MEMORY_MB, "number", low=0, low_open=True)
DEVICE = Option("cpu", "device")
EXCLUDE_SELF = Option(False, "boolean")
#: The surprise metrics' reference set: ``train`` (the study's: Train's traces, which overlap the scored
#: Train*; see ``exclude_self``) or ``validation`` (the validation split's traces: disjoint from Train*).
REFERENCE = Option("train", "choice", choices=("train", "validation"))
_CHUNKED = {"memory_mb": MEMORY, "device": DEVICE}
_PROBS = frozenset({"probabilities"})
_SURPRISE = frozenset({"layers", "reference"})

METRICS: dict[str, Metric] = {m.kind: m for m in [
    Metric("nc", "share of neurons above `threshold` after min-max scaling", "Pei et al. 2017 (DeepXplore)", _nc,
           _SURPRISE, {"layers": LAYERS, "threshold": Option(0.2, "number", 0, 1),
                       "scaling": Option("input", "choice", choices=("input", "train")), "memory_mb": MEMORY}),
    Metric("lsa", "−log KDE density of the input's trace under its predicted class (Scott bandwidth)",
           "Kim et al. 2019", _lsa, _SURPRISE,
           {"layers": LAYERS, "var_threshold": Option(1e-5, "number", low=0),
            "var_filter": Option("union", "choice", choices=("union", "per_class")), "exclude_self": EXCLUDE_SELF,
            "reference": REFERENCE, **_CHUNKED}),
    Metric("dsa", "dist to nearest same-class reference / that one's dist to the nearest other class",
           "Kim et al. 2019", _dsa, _SURPRISE,
           {"layers": LAYERS, "exclude_self": EXCLUDE_SELF, "reference": REFERENCE, **_CHUNKED}, kernels=True),
    Metric("deepgini", "1 − Σ p²", "Feng et al. 2020", _uncertainty("deepgini"), _PROBS),
    Metric("softmax_entropy", "−Σ p log₂ p", "Weiss & Tonella 2022", _uncertainty("softmax_entropy"), _PROBS),
    Metric("random", "a seeded permutation", "baseline", _random, frozenset()),
    Metric("margin", "1 − (p₁ − p₂)", "Weiss & Tonella 2022", _uncertainty("margin"), _PROBS),
    Metric("least_confidence", "1 − p₁", "Weiss & Tonella 2022", _uncertainty("least_confidence"), _PROBS),
    Metric("mdsa", "Mahalanobis distance to the predicted class's mean trace (`weiss_tonella`: squared, "
           "ML covariance)", "Kim et al. 2020; Weiss & Tonella 2022", _mdsa, _SURPRISE,
           {"layers": LAYERS, "variant": Option("kim", "choice", choices=("kim", "weiss_tonella"))}),
    Metric("kmnc", "per-input k-multisection coverage of the training ranges", "Ma et al. 2018", _coverage("kmnc"),
           _SURPRISE, {"layers": LAYERS, "k": Option(1000, "integer", low=1)}),
    Metric("nbc", "per-input boundary coverage of the training ranges", "Ma et al. 2018", _coverage("nbc"),
           _SURPRISE, {"layers": LAYERS}),
    Metric("mc_dropout", "variation ratio over `n_samples` dropout passes", "Gal & Ghahramani 2016", _mc_dropout,
           frozenset({"model"}), {"n_samples": Option(20, "integer", low=1), "batch_size": Option(256, "integer", low=1),
                                  "device": DEVICE}),
    Metric("datis", "q_alt / q_pred of the k nearest training traces' class estimate (L2-normalised, "
           "weights exp(−d²/T))", "Li et al. 2024 (ISSTA)", _datis, frozenset({"layers", "reference", "labels"}),
           {"layers": LAYERS, "k": Option(100, "integer", low=1), "temperature": Option(0.1, "number", low=0,
                                                                                        low_open=True),
            "exclude_self": EXCLUDE_SELF, **_CHUNKED}, kernels=True),
    Metric("nns", "uncertainty of α p + (1 − α) mean p of the k nearest scored inputs", "Bao et al. 2023 (ISSTA)",
           _nns, frozenset({"layers", "probabilities"}),
           {"layers": LAYERS, "k": Option(10, "integer", low=1), "alpha": Option(0.5, "number", 0, 1),
            "uncertainty": Option("deepgini", "choice", choices=PRIORITIES),
            "weighting": Option("uniform", "choice", choices=("uniform", "inverse_distance")), **_CHUNKED},
           kernels=True),
    Metric("mlsa", "−log density of a Gaussian mixture of the predicted class's traces", "Kim et al. 2020",
           _mlsa, _SURPRISE, {"layers": LAYERS, "n_components": Option(2, "integer", low=1),
                              "reg_covar": Option(1e-6, "number", low=0), "max_iter": Option(100, "integer", low=1)}),
    Metric("mcp", "an order: round-robin over (top-1, top-2) class pairs, p₂/p₁ first (scores are ranks)",
           "Shen et al. 2020 (ASE)", _mcp, _PROBS, produces="order"),
]}

#: the package's own metric kinds (the schema's enum, docs/metrics.md's table); METRICS also holds a plugin's
METRIC_KINDS = tuple(METRICS)
#: Allowed option keys of each metric and their defaults (the study's values).
METRIC_OPTIONS = {kind: {key: opt.default for key, opt in m.options.items()} for kind, m in METRICS.items()}
LAYER_METRICS = {k for k, m in METRICS.items() if "layers" in m.reads}
MODEL_METRICS = {k for k, m in METRICS.items() if "model" in m.reads}
ORDER_METRICS = {k for k, m in METRICS.items() if m.produces == "order"}


def register(m: Metric) -> None:
    """Add a metric declared outside the package (a module of the config's ``plugins``): its kind not one
    already declared, its reads among :data:`READS`; one-line ConfigError otherwise."""
    from ..plugins import check_new, key

    check_new("metric", getattr(m, "kind", None), METRICS, m, Metric)
    unknown = sorted(set(m.reads) - set(READS))
    if unknown or m.produces not in ("scores", "order"):
        raise ConfigError(f"{key()}: metric {m.kind!r}: reads {unknown} unknown (choose from {', '.join(READS)})"
                          if unknown else f"{key()}: metric {m.kind!r}: produces {m.produces!r}; expected 'scores'"
                          " or 'order'")
    METRICS[m.kind] = m
    METRIC_OPTIONS[m.kind] = {key: opt.default for key, opt in m.options.items()}
    for kinds, applies in ((LAYER_METRICS, "layers" in m.reads), (MODEL_METRICS, "model" in m.reads),
                           (ORDER_METRICS, m.produces == "order")):
        if applies:
            kinds.add(m.kind)


def metric(kind: str, where: str = "metric kind") -> Metric:
    """The registered metric ``kind``; ConfigError naming ``where`` otherwise."""
    if kind not in METRICS:
        raise ConfigError(f"{where}: unknown metric {kind!r}; choose one of {', '.join(METRICS)}")
    return METRICS[kind]


def resolve_options(kind: str, options: dict | None, where: str | None = None) -> dict:
    """``options`` of metric ``kind`` checked (unknown keys, types, ranges) and completed with
    defaults; the key "kind" is ignored. Errors are one line naming ``where.key``."""
    where = where or f"metric {kind}"
    m = metric(kind, f"{where}.kind")
    options = {k: v for k, v in dict(options or {}).items() if k != "kind"}
    extra = sorted(set(options) - set(m.options))
    if extra:
        allowed = ", ".join(sorted({"kind", *m.options}))
        raise ConfigError(f"{where}: unknown option(s) {', '.join(map(repr, extra))} for {kind}; allowed: {allowed}")
    return {key: opt.check(f"{where}.{key}", options.get(key, opt.default)) for key, opt in m.options.items()}


def schema_fragment() -> dict:
    """The schema's ``$defs.metric`` as the registry defines it (kinds and option names/types).

    Unknown keys are left to ``resolve_options``, whose message lists the kind's own options."""
    props: dict[str, dict] = {"kind": {"type": "string", "enum": list(METRIC_KINDS)}}
    types: dict[str, set] = {}
    for m in (METRICS[k] for k in METRIC_KINDS):
        for key, opt in m.options.items():
            types.setdefault(key, set()).add(opt.json_type())
    for key in sorted(types):
        t = sorted(types[key])
        props[key] = {"type": t[0] if len(t) == 1 else t}
        if key == "layers":
            props[key] = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
    return {"type": "object", "properties": props}


def readme_table() -> str:
    """The metric table of docs/metrics.md (Markdown), one row per metric of the package."""
    rows = ["| kind | score (higher = picked first) | reads | options (defaults) | paper |", "|---|---|---|---|---|"]
    for m in (METRICS[k] for k in METRIC_KINDS):
        opts = ", ".join(f"`{k}` {_default(o)}" for k, o in m.options.items())
        rows.append(f"| `{m.kind}` | {m.summary} | {', '.join(r for r in READS if r in m.reads) or '—'} | "
                    f"{opts} | {m.paper} |")
    return "\n".join(rows) + "\n"


def _default(opt: Option) -> str:
    if opt.type == "layers":
        return "(required)"
    if opt.type == "choice":
        return " \\| ".join(opt.choices)
    if opt.type == "boolean":
        return str(opt.default).lower()
    return f"{opt.default:g}" if isinstance(opt.default, float) else str(opt.default)
