"""The natural shift: inputs of another dataset (``source: {loader, root, options}``) with the same classes and
channels, resized to this dataset's height and width (:mod:`.resize`). The source's images (its train and test
parts pooled) are cut into three disjoint parts by a seeded permutation, one per side set
(:func:`.sampling.split_pool`), and each set drawn from its part (:func:`.sampling.take`: without replacement
when the part is large enough). No clean source in Train: ``idx_adv_train`` is -1."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .kind import ShiftKind, SideSets
from .resize import resize
from .sampling import split_pool, take

SOURCE_KEYS = ("loader", "root", "options")


def check_entry(entry: dict, where: str, shape=None, n_classes: int | None = None, source_signature=None) -> None:
    """``source`` names a loader (and only its keys); its images, when known, have the dataset's channels and
    classes, and at least one image per side set."""
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


def load_source(source: dict) -> tuple[np.ndarray, np.ndarray, int]:
    """A natural shift's source dataset: its train and test images pooled, labels, class count."""
    from .. import datasets

    raw = datasets.load(source["loader"], source.get("root"), **(source.get("options") or {}))
    x, y = raw.x_train, raw.y_train
    if raw.x_test is not None and len(raw.x_test):
        x, y = np.concatenate([x, raw.x_test]), np.concatenate([y, raw.y_test])
    return x, y, raw.n_classes


def side_sets(entry: dict, data, sizes: dict, subset_seed: int, seed: int, log=None, source=None) -> SideSets:
    """The three sets drawn from the loaded ``source`` ``(x, y, n_classes)`` (:func:`load_source`), resized."""
    parts = ("train", "val", "test")
    n_classes, shape = data.n_classes, data.shape
    rng = np.random.default_rng(seed)
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


KIND = ShiftKind("natural", "inputs of another dataset with the same classes and channels, resized", ("source",),
                 check_entry, side_sets, reads_source=True)
