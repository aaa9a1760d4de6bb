"""Seeded resampling behind the label and natural shifts.

* :func:`class_counts`: how many of ``n`` inputs each class gets under ``priors``, by the largest
  remainder (Hamilton's) method: ``floor(n p_k)`` each, then one more to the classes with the
  largest fractional parts ``n p_k - floor(n p_k)`` (ties to the lower class index) until the counts
  sum to ``n``. Exact for any ``n``; never off by more than one from ``n p_k``.
* :func:`take`: ``m`` inputs out of a pool of ``len(pool)`` with as few repeats as possible: every
  input ``m // len(pool)`` times, the remaining ``m % len(pool)`` drawn without replacement (seeded).
  Without replacement whenever ``m <= len(pool)``; with replacement only where needed.
* :func:`resample_to_priors`: a label shift (Lipton, Wang, Smola, "Detecting and Correcting for
  Label Shift with Black Box Predictors", ICML 2018: p(y) changes, p(x | y) does not): ``n`` inputs
  drawn class by class (:func:`take` within each class) so the class shares are ``priors``.
* :func:`dirichlet_priors`: priors drawn from a symmetric Dirichlet(alpha) (smaller alpha, more
  skewed priors), as label-shift benchmarks draw them.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DataError


def check_priors(priors, n_classes: int | None, where: str = "priors") -> np.ndarray:
    """``priors`` as float64, or a one-line :class:`ConfigError` naming ``where``: one non-negative number per
    class (when ``n_classes`` is known), summing to 1 within 1e-6."""
    if not isinstance(priors, (list, tuple, np.ndarray)) or not len(priors) or \
            not all(isinstance(p, (int, float, np.number)) and not isinstance(p, bool) for p in priors):
        raise ConfigError(f"{where}: expected a list of numbers (one prior per class), got {priors!r}")
    p = np.asarray(priors, np.float64)
    if n_classes is not None and len(p) != n_classes:
        raise ConfigError(f"{where}: {len(p)} priors for {n_classes} classes; give one per class")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ConfigError(f"{where}: priors must be finite and >= 0, got {list(priors)}")
    if abs(p.sum() - 1.0) > 1e-6:
        raise ConfigError(f"{where}: priors sum to {p.sum():.9g}; they must sum to 1 (within 1e-6)")
    return p


def class_counts(n: int, priors) -> np.ndarray:
    """Counts per class summing to ``n`` (largest remainder method; see the module docstring)."""
    p = np.asarray(priors, np.float64)
    exact = n * p
    counts = np.floor(exact + 1e-9).astype(np.int64)
    short = int(n - counts.sum())
    if short > 0:
        frac = exact - counts
        order = np.lexsort((np.arange(len(p)), -frac))  # largest fraction first, lower class on ties
        counts[order[:short]] += 1
    return counts


def take(pool: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` elements of ``pool``: each ``m // len(pool)`` times, the rest without replacement; sorted."""
    pool = np.asarray(pool)
    if m == 0:
        return pool[:0]
    if len(pool) == 0:
        raise DataError(f"cannot draw {m} inputs from an empty pool")
    whole, rest = divmod(int(m), len(pool))
    picked = np.concatenate([np.tile(pool, whole), rng.choice(pool, size=rest, replace=False)])
    return np.sort(picked)


def resample_to_priors(y: np.ndarray, n: int, priors, rng: np.random.Generator, what: str = "inputs") -> np.ndarray:
    """Indices into ``y`` of ``n`` inputs whose class shares are ``priors`` (counts by :func:`class_counts`,
    each class by :func:`take`), sorted. A class given a share but absent from ``y`` raises :class:`DataError`."""
    counts = class_counts(n, priors)
    parts = []
    for k, m in enumerate(counts):
        pool = np.flatnonzero(np.asarray(y) == k)
        if m and not len(pool):
            raise DataError(f"label shift: class {k} has prior {float(priors[k]):.4g} but none of the {len(y)} {what}")
        parts.append(take(pool, int(m), rng))
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)


def dirichlet_priors(alpha: float, n_classes: int, seed: int) -> np.ndarray:
    """Priors drawn from Dirichlet(alpha, ..., alpha) with ``default_rng(seed)``."""
    return np.random.default_rng(int(seed)).dirichlet(np.full(int(n_classes), float(alpha)))


def split_pool(n_pool: int, sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """A seeded permutation of ``range(n_pool)`` cut into disjoint parts, one per wanted size: the first
    ``sizes[j]`` each when the pool holds them all, else parts in proportion to ``sizes``
    (:func:`class_counts` of the shares; every wanted part gets at least one input)."""
    perm = rng.permutation(n_pool)
    total = int(sum(sizes))
    if n_pool >= total:
        counts = np.asarray(sizes, np.int64)
    else:
        if n_pool < sum(1 for s in sizes if s):
            raise DataError(f"cannot split {n_pool} inputs into {len(sizes)} disjoint parts")
        counts = class_counts(n_pool, np.asarray(sizes, np.float64) / total)
        for j in np.flatnonzero((counts == 0) & (np.asarray(sizes) > 0)):  # at least one each
            counts[j] += 1
            counts[int(np.argmax(counts))] -= 1
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [perm[bounds[j]:bounds[j + 1]] for j in range(len(sizes))]
