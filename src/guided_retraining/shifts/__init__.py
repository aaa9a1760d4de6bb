"""Distribution shifts: kinds of new inputs beside the adversarial attacks, on the grid's same axis.

A shift makes the side sets an attack makes (rule attack, ``adversarial.npz``): Adv.Train
(``adv_train_size`` inputs, for retraining), Adv.Val (as many as Val) and Adv.Test (as many as Test),
so scoring, ordering, retraining, tables and statistics apply unchanged. ``SHIFTS`` maps each kind
to its declaration (:class:`ShiftKind`: summary, settings); :func:`side_sets` makes the three sets;
:func:`check_shift` checks an entry before any job.

* ``corruption`` (``name``, ``severity`` 1-5): the seeded Adv.Train subset of Train (the attacks'),
  all of Val and all of Test, corrupted (:mod:`.corruption`); ``idx_adv_train`` their rows in Train.
* ``natural`` (``source: {loader, root, options}``): inputs of another dataset with the same classes
  and channels, resized to this dataset's height and width (:mod:`.resize`); the source's images
  (its train and test parts pooled) are cut into three disjoint parts by a seeded permutation, one
  per side set (:func:`.sampling.split_pool`), and each set drawn from its part (:func:`.sampling.take`:
  without replacement when the part is large enough). No clean source in Train:
  ``idx_adv_train`` is -1.
* ``label_shift`` (``priors``, or a Dirichlet ``alpha``): Train, Val and Test each resampled to the
  priors (:func:`.sampling.resample_to_priors`); ``idx_adv_train`` the rows of Train drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..seeding import derive_seed
from .corruption import CORRUPTIONS, FAMILIES, check_corruption, corrupt, work_size
from .kind import ShiftKind
from .resize import resize
from .sampling import check_priors, class_counts, dirichlet_priors, resample_to_priors, split_pool, take

#: the shift kinds by name, declared once (:class:`ShiftKind`); settings: every one optional unless the checks say
#: otherwise
SHIFTS: dict[str, ShiftKind] = {k.name: k for k in [
    ShiftKind("corruption", "the seeded Adv.Train subset of Train, all of Val and all of Test, corrupted"
              " (imagecorruptions' 19 at severity 1 to 5)", ("name", "severity"), paired=True),
    ShiftKind("natural", "inputs of another dataset with the same classes and channels, resized", ("source",),
              reads_source=True),
    ShiftKind("label_shift", "Train, Val and Test resampled to other class priors (given, or Dirichlet-drawn)",
              ("priors", "alpha")),
]}
#: workflow keys of an attack entry that cannot apply to a shift (set, they stop the run)
ATTACK_ONLY = ("keep_successful", "softmax_as_logits", "adv_test")
SOURCE_KEYS = ("loader", "root", "options")


def is_shift(kind: str) -> bool:
    return kind in SHIFTS


@dataclass
class SideSets:
    """Adv.Train (with each row's source in Train, or -1), Adv.Val and Adv.Test of a shift, and what made them."""

    x_train: np.ndarray
    y_train: np.ndarray
    idx_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict = field(default_factory=dict)


def check_shift(entry: dict, where: str, shape=None, n_classes: int | None = None,
                source_signature=None) -> None:
    """One-line :class:`ConfigError` naming the key unless ``entry`` (a grid entry of a shift kind) can apply
    to a dataset of image ``shape`` (C, H, W) and ``n_classes`` (each ``None`` when unknown).
    ``source_signature``: ``(shape, n_classes, images)`` of a natural shift's source, when known."""
    kind = entry["kind"]
    allowed = SHIFTS[kind].settings
    unknown = sorted(k for k in entry if k != "kind" and k not in allowed and k not in ATTACK_ONLY)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: not a setting of shift kind {kind!r}; allowed: "
                          f"{', '.join(allowed)}")
    for key in ATTACK_ONLY:
        if entry.get(key):
            raise ConfigError(f"{where}.{key}: applies to attacks only, not to shift kind {kind!r}; leave it out")
    if kind == "corruption":
        check_corruption(entry.get("name"), entry.get("severity"), shape[0] if shape else None, where)
    elif kind == "label_shift":
        if ("priors" in entry) == ("alpha" in entry):
            raise ConfigError(f"{where}: a label shift takes priors (one per class, summing to 1) or a Dirichlet "
                              "alpha, exactly one of them")
        if "priors" in entry:
            check_priors(entry["priors"], n_classes, f"{where}.priors")
        elif isinstance(entry["alpha"], bool) or not isinstance(entry["alpha"], (int, float)) \
                or not entry["alpha"] > 0:
            raise ConfigError(f"{where}.alpha: {entry['alpha']!r} is not allowed; expected a number > 0")
    elif kind == "natural":
        source = entry.get("source")
        if not isinstance(source, dict) or "loader" not in source:
            raise ConfigError(f"{where}.source: expected {{loader: ..., root: ..., options: {{...}}}}, the dataset the"
                              f" inputs come from; got {source!r}")
        extra = sorted(set(source) - set(SOURCE_KEYS))
        if extra:
            raise ConfigError(f"{where}.source.{extra[0]}: unknown key; allowed: {', '.join(SOURCE_KEYS)}")
        if source_signature is not None:
            (c, _, _), k, images = source_signature
            if shape is not None and c != shape[0]:
                raise ConfigError(f"{where}.source: its images have {c} channel(s), the dataset's {shape[0]};"
                                  " a natural shift needs the same channels (see the loader's grayscale option)")
            if n_classes is not None and k != n_classes:
                raise ConfigError(f"{where}.source: {k} classes, the dataset has {n_classes}; a natural shift needs"
                                  " the same classes")
            if images < 3:
                raise ConfigError(f"{where}.source: {images} image(s); the three side sets need at least 3")


def shift_priors(entry: dict, n_classes: int, seed: int) -> np.ndarray:
    """A label shift's priors: the given ``priors``, or drawn from Dirichlet(``alpha``) with ``seed``."""
    if "priors" in entry:
        return check_priors(entry["priors"], n_classes, "priors")
    return dirichlet_priors(entry["alpha"], n_classes, seed)


def load_source(source: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """A natural shift's source dataset: its train and test images pooled, labels, class count."""
    from .. import datasets

    raw = datasets.load(source["loader"], source.get("root"), **(source.get("options") or {}))
    x, y = raw.x_train, raw.y_train
    if raw.x_test is not None and len(raw.x_test):
        x, y = np.concatenate([x, raw.x_test]), np.concatenate([y, raw.y_test])
    return x, y, raw.n_classes


def side_sets(entry: dict, data, adv_train_size: int, subset_seed: int, seed: int, log=None,
              source=None) -> SideSets:
    """The three side sets of shift ``entry`` for prepared ``data`` (x/y_train, val, test).

    ``subset_seed`` draws the Adv.Train subset of a corruption (the attacks' subset), ``seed`` the
    shift's own random choices (corruption noise, natural draws, label resampling, Dirichlet priors).
    ``source``: a natural shift's ``(x, y, n_classes)`` (:func:`load_source`), loaded by the caller.
    """
    kind = entry["kind"]
    parts = ("train", "val", "test")
    sizes = {"train": int(adv_train_size), "val": len(data["y_val"]), "test": len(data["y_test"])}
    n_classes, shape = data.n_classes, data.shape
    if kind == "corruption":
        n_train = len(data["x_train"])
        if adv_train_size > n_train:
            raise ConfigError(f"adv_train_size: {adv_train_size} exceeds the {n_train} training inputs")
        idx = np.sort(np.random.default_rng(subset_seed).choice(n_train, size=adv_train_size, replace=False))
        xs = {"train": data["x_train"][idx], "val": data["x_val"], "test": data["x_test"]}
        ys = {"train": data["y_train"][idx], "val": data["y_val"], "test": data["y_test"]}
        severity = int(entry["severity"])
        out = {p: corrupt(xs[p], entry["name"], severity, derive_seed(seed, p), log,
                          f"{entry['name']} {severity} on {p}") for p in parts}
        return SideSets(out["train"], ys["train"], idx.astype(np.int64), out["val"], ys["val"], out["test"],
                        ys["test"], {"name": entry["name"], "severity": severity,
                                     "corrupted_at": list(work_size(*shape[1:]))})
    rng = np.random.default_rng(seed)
    if kind == "label_shift":
        priors = shift_priors(entry, n_classes, derive_seed(seed, "priors"))
        idx = {p: resample_to_priors(data[f"y_{p}"], sizes[p], priors, rng, f"{p} inputs") for p in parts}
        repeats = {p: int(len(idx[p]) - len(np.unique(idx[p]))) for p in parts}
        return SideSets(data["x_train"][idx["train"]], data["y_train"][idx["train"]], idx["train"],
                        data["x_val"][idx["val"]], data["y_val"][idx["val"]], data["x_test"][idx["test"]],
                        data["y_test"][idx["test"]], {"priors": [float(v) for v in priors],
                                                      "repeated_inputs": repeats})
    if kind == "natural":
        x_src, y_src, k_src = source
        if y_src.max(initial=0) >= n_classes:
            raise ConfigError(f"source: labels up to {int(y_src.max())}, the dataset has {n_classes} classes")
        if x_src.shape[1] != shape[0]:
            raise ConfigError(f"source: images with {x_src.shape[1]} channel(s), the dataset's have {shape[0]}")
        pools = split_pool(len(x_src), [sizes[p] for p in parts], rng)
        idx = {p: take(pool, sizes[p], rng) for p, pool in zip(parts, pools)}
        xs = {p: resize(x_src[idx[p]], shape[1:]) for p in parts}
        repeats = {p: int(len(idx[p]) - len(np.unique(idx[p]))) for p in parts}
        return SideSets(xs["train"], y_src[idx["train"]].astype(np.int64), np.full(sizes["train"], -1, np.int64),
                        xs["val"], y_src[idx["val"]].astype(np.int64), xs["test"], y_src[idx["test"]].astype(np.int64),
                        {"source": entry["source"], "source_images": int(len(x_src)),
                         "source_shape": list(x_src.shape[1:]), "resized_to": list(shape[1:]),
                         "repeated_inputs": repeats})
    raise ConfigError(f"kind: {kind!r} is not a shift; choose one of {', '.join(SHIFTS)}")


__all__ = ["ATTACK_ONLY", "CORRUPTIONS", "FAMILIES", "SHIFTS", "ShiftKind", "SideSets", "check_corruption", "check_priors",
           "check_shift", "class_counts", "corrupt", "dirichlet_priors", "is_shift", "load_source",
           "resample_to_priors", "resize", "shift_priors", "side_sets", "split_pool", "take"]
