"""Train / validation / test splits of a loaded dataset.

- ``merged`` (the replication package): pool the dataset's train and test images,
  shuffle with the seed, and cut by ``fractions`` (default 70/20/10). The sizes follow
  the study's two calls of scikit-learn's ``train_test_split`` (see :func:`merged_sizes`):
  70,000 images give 48,999 / 14,000 / 7,001 and 60,000 give 41,999 / 12,000 / 6,001.
- ``original``: keep the dataset's own test split; cut a validation share
  ``fractions[1] / (fractions[0] + fractions[1])`` off its training split.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import RawDataset

SPLITS = ("merged", "original")


def merged_sizes(n: int, fractions=(0.7, 0.2, 0.1)) -> tuple[int, int, int]:
    """Sizes (train, val, test) of the merged split of ``n`` images.

    The replication package split twice with scikit-learn's ``train_test_split``:
    ``test_size=1 - train`` (held-out part), then ``test_size=test / (test + val)`` of the
    held-out part. ``train_test_split`` rounds a float test share up (``ceil``) on the
    float product, so ``(1 - 0.7) * 70000 = 21000.000000000004`` holds out 21,001 images.
    This reproduces those sizes exactly, including that floating-point artefact.
    """
    f_train, f_val, f_test = (float(f) for f in fractions)
    n_rest = min(n, int(np.ceil((1.0 - f_train) * n))) if f_val + f_test > 0 else 0
    n_test = min(n_rest, int(np.ceil(f_test / (f_test + f_val) * n_rest))) if f_test > 0 else 0
    return n - n_rest, n_rest - n_test, n_test


def split_sizes(n_train: int, n_test: int, mode: str = "merged", fractions=(0.7, 0.2, 0.1),
                subset: int | None = None) -> tuple[int, int, int]:
    """Sizes (train, val, test) that :func:`subsample` then :func:`split` give for a dataset of
    ``n_train`` training and ``n_test`` test images (0: none of its own), without loading it."""
    total = n_train + n_test
    if subset is not None and subset < total:
        keep_test = int(round(subset * n_test / total))
        n_train, n_test = subset - keep_test, keep_test
    fractions = tuple(float(f) for f in fractions)
    if mode == "merged":
        return merged_sizes(n_train + n_test, fractions)
    share = fractions[1] / (fractions[0] + fractions[1]) if fractions[0] + fractions[1] > 0 else 0.0
    n_val = int(np.floor(share * n_train))
    return n_train - n_val, n_val, n_test


def split(raw: RawDataset, mode: str = "merged", fractions=(0.7, 0.2, 0.1), seed: int = 0) -> dict[str, np.ndarray]:
    """Return ``x_train, y_train, x_val, y_val, x_test, y_test`` as a dict of arrays."""
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"split.fractions: expected three non-negative shares summing to 1, got {list(fractions)}")
    rng = np.random.default_rng(seed)
    if mode == "merged":
        xs = [raw.x_train] + ([raw.x_test] if raw.x_test is not None else [])
        ys = [raw.y_train] + ([raw.y_test] if raw.y_test is not None else [])
        x, y = np.concatenate(xs), np.concatenate(ys)
        perm = rng.permutation(len(x))
        n_train, n_val, _ = merged_sizes(len(x), fractions)
        parts = np.split(perm, [n_train, n_train + n_val])
        names = ("train", "val", "test")
        out = {}
        for name, idx in zip(names, parts):
            out[f"x_{name}"], out[f"y_{name}"] = x[idx], y[idx]
        return out
    if mode == "original":
        if raw.x_test is None:
            raise ConfigError(f"split.mode: dataset {raw.name!r} has no test split of its own; use 'merged'")
        share = fractions[1] / (fractions[0] + fractions[1]) if fractions[0] + fractions[1] > 0 else 0.0
        perm = rng.permutation(len(raw.x_train))
        n_val = int(np.floor(share * len(perm)))
        val, train = perm[:n_val], perm[n_val:]
        return {
            "x_train": raw.x_train[train], "y_train": raw.y_train[train],
            "x_val": raw.x_train[val], "y_val": raw.y_train[val],
            "x_test": raw.x_test, "y_test": raw.y_test,
        }
    raise ConfigError(f"split.mode: expected one of {list(SPLITS)}, got {mode!r}")


def subsample(raw: RawDataset, subset: int | None, seed: int = 0) -> RawDataset:
    """Keep a seeded random ``subset`` of the dataset (train and test parts in proportion).

    For reduced studies on real data: the class balance is kept in expectation, and the
    same seed always keeps the same images. ``None`` (or a subset at least the size of the
    data) returns ``raw`` unchanged.
    """
    n_test = 0 if raw.x_test is None else len(raw.x_test)
    total = len(raw.x_train) + n_test
    if subset is None or subset >= total:
        return raw
    rng = np.random.default_rng(seed)
    keep_test = int(round(subset * n_test / total))
    train_idx = np.sort(rng.choice(len(raw.x_train), subset - keep_test, replace=False))
    test_idx = np.sort(rng.choice(n_test, keep_test, replace=False)) if n_test else None
    return RawDataset(
        raw.name, raw.x_train[train_idx], raw.y_train[train_idx],
        None if test_idx is None else raw.x_test[test_idx], None if test_idx is None else raw.y_test[test_idx],
        raw.n_classes,
    )
