"""Shared helpers of the metrics: input checks and coercion, chunk sizes, torch devices, row hashes and
exact row matching (the nearest-neighbour engine is :mod:`.knn`)."""

from __future__ import annotations

import logging

import numpy as np

from ..errors import ConfigError, DataError

LOG = logging.getLogger("guided_retraining.metrics")

#: Default memory budget (MiB) of the chunked metrics.
DEFAULT_MEMORY_MB = 1024


def as_ats(name: str, array, dtype=np.float64) -> np.ndarray:
    """``array`` as a 2-D finite float array (inputs x neurons)."""
    out = np.asarray(array, dtype=dtype)
    if out.ndim == 1:
        out = out[:, None]
    if out.ndim != 2:
        raise DataError(f"{name}: expected a 2-D array (inputs x neurons), got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise DataError(f"{name}: contains NaN or infinite values")
    return out


def as_pred(name: str, array, n: int) -> np.ndarray:
    """``array`` as a 1-D int64 class array of length ``n``."""
    out = np.asarray(array)
    if out.ndim != 1 or out.shape[0] != n:
        raise DataError(f"{name}: expected a 1-D class array of length {n}, got shape {out.shape}")
    if out.size and not np.issubdtype(out.dtype, np.integer):
        if not np.all(out == np.round(out)):
            raise DataError(f"{name}: class labels must be integers")
    return out.astype(np.int64)


def as_probs(probs) -> np.ndarray:
    """``probs`` as a 2-D float64 array (inputs x classes)."""
    out = np.asarray(probs, dtype=np.float64)
    if out.ndim != 2:
        raise DataError(f"probs: expected a 2-D array (inputs x classes), got shape {out.shape}")
    return out


def as_exclude(exclude_self, n_targets: int, n_reference: int) -> np.ndarray | None:
    """Validate ``exclude_self``: per target its index in the reference set, or -1."""
    if exclude_self is None:
        return None
    out = np.asarray(exclude_self)
    if out.ndim != 1 or out.shape[0] != n_targets or (out.size and not np.issubdtype(out.dtype, np.integer)):
        raise DataError(f"exclude_self: expected an int array of length {n_targets}, got {out.dtype} {out.shape}")
    out = out.astype(np.int64)
    if out.size and (out.min() < -1 or out.max() >= n_reference):
        raise DataError(f"exclude_self: indices must be -1 or in [0, {n_reference})")
    return out


def check_same_width(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise DataError(f"reference has {a.shape[1]} neurons but targets have {b.shape[1]}")


def as_surprise_inputs(train_ats, train_pred, target_ats, target_pred, exclude_self=None):
    """Validated ``(train, train_pred, target, target_pred, exclude)`` of a surprise metric."""
    train = as_ats("train_ats", train_ats)
    target = as_ats("target_ats", target_ats)
    check_same_width(train, target)
    tr_pred = as_pred("train_pred", train_pred, train.shape[0])
    tg_pred = as_pred("target_pred", target_pred, target.shape[0])
    return train, tr_pred, target, tg_pred, as_exclude(exclude_self, target.shape[0], train.shape[0])


def torch_device(device):
    """The library's one device resolver (:func:`guided_retraining.hardware.resolve_device`)."""
    from ..hardware import resolve_device

    return resolve_device(device)


def chunk_rows(memory_mb: float, bytes_per_row: float, total: int) -> int:
    """Rows per chunk so that one chunk's working set stays within ``memory_mb`` MiB."""
    if memory_mb is None or memory_mb <= 0:
        raise ConfigError(f"memory_mb: must be a positive number, got {memory_mb!r}")
    rows = int(memory_mb * 2**20 // max(bytes_per_row, 1))
    return max(1, min(rows, max(total, 1)))


def chunks(total: int, size: int):
    for start in range(0, total, size):
        yield start, min(start + size, total)


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0/0 = 0 and x/0 = inf (x > 0)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    pos = den > 0
    with np.errstate(invalid="ignore", over="ignore"):
        np.divide(num, den, out=out, where=pos)
    out[~pos & (num > 0)] = np.inf
    return out


def row_hashes(x: np.ndarray) -> np.ndarray:
    """A uint64 hash of each float64 row's bits (exact integer arithmetic; -0.0 hashes as 0.0):
    equal rows hash equally, so candidate pairs need comparing in full only where hashes match."""
    mult = np.random.default_rng(12345).integers(1, 2**63, size=x.shape[1], dtype=np.uint64) | np.uint64(1)
    bits = np.ascontiguousarray(x + 0.0).view(np.uint64)  # + 0.0: -0.0 -> 0.0
    with np.errstate(over="ignore"):
        return (bits * mult).sum(axis=1, dtype=np.uint64)


def match_reference(train: np.ndarray, tr_pred: np.ndarray, target: np.ndarray, tg_pred: np.ndarray) -> np.ndarray:
    """Per target, the index of a reference trace equal to it (bit for bit, up to the
    sign of zero) with the same predicted class, or -1.

    Rows are hashed with exact integer arithmetic on their bits; candidate pairs are
    then compared in full, so a hash collision can only miss a match, never invent one.
    """
    def hashes(x, pred):
        with np.errstate(over="ignore"):
            return row_hashes(x) ^ (pred.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))

    out = np.full(target.shape[0], -1, dtype=np.int64)
    if train.shape[0] == 0 or target.shape[0] == 0:
        return out
    ref_h = hashes(train, tr_pred)
    order = np.argsort(ref_h, kind="stable")
    sorted_h = ref_h[order]
    t_h = hashes(target, tg_pred)
    pos = np.minimum(np.searchsorted(sorted_h, t_h), sorted_h.size - 1)
    cand = np.nonzero(sorted_h[pos] == t_h)[0]
    j = order[pos[cand]]
    same = np.all(target[cand] == train[j], axis=1) & (tg_pred[cand] == tr_pred[j])
    out[cand[same]] = j[same]
    return out
