"""Shared helpers of the metrics: input checks, chunk sizes, torch devices, the nearest-neighbour engine."""

from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import ConfigError, DataError
from ..hardware import check_fits, memory_budget_mb

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
    """The library's one device resolver (:func:`guided_retraining.training.resolve_device`)."""
    from ..training import resolve_device

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


_EPS32 = float(np.finfo(np.float32).eps)


def row_hashes(x: np.ndarray) -> np.ndarray:
    """A uint64 hash of each float64 row's bits (exact integer arithmetic; -0.0 hashes as 0.0):
    equal rows hash equally, so candidate pairs need comparing in full only where hashes match."""
    mult = np.random.default_rng(12345).integers(1, 2**63, size=x.shape[1], dtype=np.uint64) | np.uint64(1)
    bits = np.ascontiguousarray(x + 0.0).view(np.uint64)  # + 0.0: -0.0 -> 0.0
    with np.errstate(over="ignore"):
        return (bits * mult).sum(axis=1, dtype=np.uint64)


def uncertain_rows(last, qn, kth, bound: float, rn_max: float, excluded: bool) -> np.ndarray:
    """Rows whose k-th exact squared distance ``kth`` is not certified: some reference left out
    of the candidates (float32 score >= ``last``) may lie nearer, by the float32 error bound
    ``bound (||q||^2 + max ||r||^2)``; with exclusions also rows left with too few candidates."""
    lower = last + qn - bound * (qn + rn_max)
    bad = (lower < kth) & (kth > 0)
    if excluded:
        bad |= ~np.isfinite(kth)
    return np.nonzero(bad)[0]


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


REMEASURE = ("difference", "product")
ENGINES = ("auto", "torch")


def knn(queries: np.ndarray, refs: np.ndarray, k: int, *, exclude: np.ndarray | None = None,
        memory_mb: float = DEFAULT_MEMORY_MB, device="cpu", progress=None, extra: int = 7,
        remeasure: str = "difference", engine: str = "auto"):
    """The ``k`` nearest reference rows of each query row (Euclidean), exact in float64.

    The one nearest-neighbour engine of DSA, DATIS and NNS: exact, chunked (each chunk's
    working set within ``memory_mb`` MiB), on CPU or GPU (``device``, via torch).
    Candidates come from chunked float32 products ``||r||^2 - 2 q.r`` on data centred on
    the reference mean; the ``k + extra`` best are re-measured exactly in float64
    (``sum((q - r)^2)``) and the ``k`` nearest kept, sorted by (distance, reference index).
    A row is certified when the last float32 candidate's lower bound (its value minus the
    float32 error bound ``(d + 3) eps32 (||q||^2 + max ||r||^2)``) is not below the k-th
    exact squared distance; rows that are not (near ties) are searched again in float64.
    ``exclude[i]`` (or -1) is a reference row that query i may not pick (itself).

    ``engine``: "auto" runs the CPU kernels (``_knn_cpu``: cache-sized float32 tiles scanned
    into per-query thresholds, half the products where queries are reference rows, numba) on
    the CPU and the torch chunks (``addmm`` + ``topk``) on a GPU; "torch" forces the torch
    chunks (the GPU's code path, also on the CPU). Both find the same neighbours.

    ``remeasure`` (torch chunks): how the candidates' float64 squared distances are taken:
    "difference" (``sum((q - r)^2)``, exact to the last bits even for near-identical rows:
    DSA's distance ratios) or "product" (``||q||^2 + ||r||^2 - 2 q.r`` in float64 on the
    centred data, absolute error about 1e-16 (||q||^2 + ||r||^2), a quarter of the memory
    traffic). The CPU kernels always measure differences.

    Returns (index int64 (nq, k), distance float64 (nq, k)); index -1 and distance inf
    where a query has fewer than ``k`` candidates (``k`` larger than the reference set).
    """
    import torch

    if remeasure not in REMEASURE:
        raise ConfigError(f"remeasure: {remeasure!r} is not one of {', '.join(REMEASURE)}")
    if engine not in ENGINES:
        raise ConfigError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    dev = torch_device(device)
    memory_mb = memory_budget_mb(dev, memory_mb)  # on a GPU, at most half its free memory
    nq, d = queries.shape
    nr = refs.shape[0]
    k = int(k)
    idx_out = np.full((nq, k), -1, dtype=np.int64)
    dist_out = np.full((nq, k), np.inf)
    if nq == 0 or nr == 0 or k < 1:
        return idx_out, dist_out
    center = refs.mean(axis=0)
    r64 = refs - center
    q64 = queries - center
    rn = np.einsum("ij,ij->i", r64, r64)
    qn = np.einsum("ij,ij->i", q64, q64)
    kk = min(k + extra, nr)
    bound = (d + 3) * _EPS32
    rn_max = float(rn.max())
    if (engine == "auto" and dev.type == "cpu" and nr < 2**31
            and max(float(np.abs(r64).max()), float(np.abs(q64).max())) < 1e15):
        from . import _knn_cpu  # numba kernels: compiled (or loaded from their cache) on first use

        threads = torch.get_num_threads()
        cand, last, order = _knn_cpu.candidates(q64, r64, rn, kk, exclude, memory_mb=memory_mb, threads=threads,
                                                progress=progress)
        cand, d2 = _knn_cpu.remeasure(q64, r64, cand, threads=threads, order=order)
        kc = min(k, kk)
        idx_out[:, :kc] = cand[:, :kc]
        dist_out[:, :kc] = np.sqrt(d2[:, :kc])
        if kk < nr:
            uncertain = uncertain_rows(last, qn, d2[:, k - 1], bound, rn_max, exclude is not None)
            if uncertain.size:
                norms = (torch.from_numpy(rn), qn) if remeasure == "product" else None
                _nearest_float64(q64, torch.from_numpy(r64), rn, uncertain, exclude, idx_out, dist_out, memory_mb,
                                 dev, kk, norms)
        return idx_out, dist_out
    check_fits(dev, nr * d * 12, f"nearest neighbours among {nr} x {d} reference traces")  # float64 + float32
    rt64 = torch.from_numpy(r64).to(dev)
    r32 = rt64.to(torch.float32)
    rn32 = torch.from_numpy(rn).to(dev, torch.float32)
    norms = (torch.from_numpy(rn).to(dev), qn) if remeasure == "product" else None
    # float32 score matrix + top-k workspace + top-k gathers (kk x d float64)
    rows = chunk_rows(memory_mb, nr * 4 * 2 + kk * d * 8 * 3 + d * 16, nq)
    uncertain = []
    for start, stop in chunks(nq, rows):
        q32 = torch.from_numpy(q64[start:stop]).to(dev, torch.float32)
        s = torch.addmm(rn32, q32, r32.T, beta=1.0, alpha=-2.0)
        ex = None if exclude is None else exclude[start:stop]
        _mask_excluded(s, ex, dev)
        vals, cand = torch.topk(s, kk, dim=1, largest=False, sorted=True)
        del s
        kth = _exact_best(q64[start:stop], rt64, cand, vals, k, idx_out[start:stop], dist_out[start:stop], dev,
                          None if norms is None else (norms[0], norms[1][start:stop]))
        if kk < nr:
            last = vals[:, -1].to(torch.float64).cpu().numpy()
            bad = uncertain_rows(last, qn[start:stop], kth, bound, rn_max, ex is not None)
            uncertain.extend((start + bad).tolist())
        if progress is not None:
            progress.update(stop - start)
    if uncertain:
        _nearest_float64(q64, rt64, rn, np.asarray(uncertain, dtype=np.int64), exclude,
                         idx_out, dist_out, memory_mb, dev, kk, norms)
    return idx_out, dist_out


def nearest(queries: np.ndarray, refs: np.ndarray, *, exclude: np.ndarray | None = None,
            memory_mb: float = DEFAULT_MEMORY_MB, device="cpu", progress=None, k: int = 8):
    """Nearest reference row of each query row: ``knn`` with one neighbour and ``k`` candidates.

    Returns (index int64, distance float64); index -1 and distance inf where a query has
    no candidate (all references excluded).
    """
    idx, dist = knn(queries, refs, 1, exclude=exclude, memory_mb=memory_mb, device=device,
                    progress=progress, extra=k - 1)
    return idx[:, 0], dist[:, 0]


def _mask_excluded(s, ex, dev) -> None:
    """Set each row's excluded column (``ex[i] >= 0``) of the score matrix ``s`` to +inf."""
    import torch

    if ex is None:
        return
    has = np.nonzero(ex >= 0)[0]
    if has.size:
        s[torch.from_numpy(has).to(dev), torch.from_numpy(ex[has]).to(dev)] = math.inf


def _exact_best(q64, rt64, cand, vals, k, idx_out, dist_out, dev, norms=None) -> np.ndarray:
    """Re-measure candidates in float64 (``norms``: (reference, query) squared norms for the
    "product" form, else differences); write the ``k`` nearest (sorted by distance, then
    index) into ``idx_out``/``dist_out``; return each row's k-th squared distance."""
    import torch

    qt = torch.from_numpy(q64).to(dev)
    if norms is None:
        diff = qt[:, None, :] - rt64[cand]
        d2 = (diff * diff).sum(-1)
        del diff
    else:
        flat = cand.reshape(-1)
        rows = torch.index_select(rt64, 0, flat).view(*cand.shape, rt64.shape[1])
        dots = torch.bmm(rows, qt[:, :, None])[:, :, 0]
        del rows
        d2 = (torch.index_select(norms[0], 0, flat).view(cand.shape) - 2.0 * dots).add_(torch.from_numpy(norms[1]).to(dev)[:, None]).clamp_(min=0.0)
    d2 = torch.where(torch.isinf(vals), torch.full_like(d2, math.inf), d2)
    # sort by (distance, reference index): index first, then a stable sort by distance
    by_idx = torch.sort(cand, dim=1, stable=True)
    d2 = d2.gather(1, by_idx.indices)
    d2, pos = torch.sort(d2, dim=1, stable=True)
    chosen = by_idx.values.gather(1, pos)
    kk = min(k, d2.shape[1])
    d2_np = d2[:, :kk].cpu().numpy()
    idx_out[:, :kk] = np.where(np.isfinite(d2_np), chosen[:, :kk].cpu().numpy(), -1)
    dist_out[:, :kk] = np.sqrt(d2_np)
    return d2_np[:, -1] if kk == k else np.full(d2_np.shape[0], np.inf)


def _nearest_float64(q64, rt64, rn, rows_idx, exclude, idx_out, dist_out, memory_mb, dev, kk, norms=None):
    """Search ``rows_idx`` again with float64 products (near ties of the float32 search)."""
    import torch

    nr, d = rt64.shape
    k = idx_out.shape[1]
    rn64 = torch.from_numpy(rn).to(dev)
    rows = chunk_rows(memory_mb, nr * 8 * 2 + kk * d * 8 * 3, rows_idx.size)
    for start, stop in chunks(rows_idx.size, rows):
        sel = rows_idx[start:stop]
        qt = torch.from_numpy(q64[sel]).to(dev)
        s = torch.addmm(rn64, qt, rt64.T, beta=1.0, alpha=-2.0)
        _mask_excluded(s, None if exclude is None else exclude[sel], dev)
        vals, cand = torch.topk(s, kk, dim=1, largest=False, sorted=True)
        idx_sel = np.full((sel.size, k), -1, dtype=np.int64)
        dist_sel = np.full((sel.size, k), np.inf)
        _exact_best(q64[sel], rt64, cand, vals, k, idx_sel, dist_sel, dev,
                    None if norms is None else (norms[0], norms[1][sel]))
        idx_out[sel] = idx_sel
        dist_out[sel] = dist_sel


def nearest_other_class(refs: np.ndarray, pred: np.ndarray, *, memory_mb: float = DEFAULT_MEMORY_MB,
                        device="cpu", k: int = 8):
    """Nearest reference row of another class for EVERY reference row; exact in float64.

    Half the work of calling ``nearest`` for each class: the float32 block of squared
    distances between classes c < c' is computed once and reduced along its rows (for
    the traces of c) and its columns (for those of c'), keeping a running top-``k``; the
    candidates are then re-measured in float64 and certified as in ``nearest`` (rows that
    are not are searched again with ``nearest``).
    """
    import torch

    dev = torch_device(device)
    memory_mb = memory_budget_mb(dev, memory_mb)  # on a GPU, at most half its free memory
    m, d = refs.shape
    center = refs.mean(axis=0)
    x64 = refs - center
    xn = np.einsum("ij,ij->i", x64, x64)
    check_fits(dev, m * d * 12, f"nearest other-class neighbours among {m} x {d} reference traces")
    xt64 = torch.from_numpy(x64).to(dev)
    x32 = xt64.to(torch.float32)
    xn32 = torch.from_numpy(xn).to(dev, torch.float32)
    best_v = torch.full((m, k), math.inf, dtype=torch.float32, device=dev)
    best_i = torch.full((m, k), -1, dtype=torch.int64, device=dev)
    members = {int(c): torch.from_numpy(np.nonzero(pred == c)[0]).to(dev) for c in np.unique(pred)}
    classes = sorted(members)

    def merge(rows, vals, idx):
        v = torch.cat([best_v[rows], vals], dim=1)
        i = torch.cat([best_i[rows], idx], dim=1)
        kk = min(k, v.shape[1])
        v, pos = torch.topk(v, kk, dim=1, largest=False, sorted=True)
        best_v[rows, :kk] = v
        best_i[rows, :kk] = i.gather(1, pos)

    for a_pos, ca in enumerate(classes):
        ia = members[ca]
        for cb in classes[a_pos + 1:]:
            ib = members[cb]
            b32, bn = x32[ib], xn32[ib]
            rows = chunk_rows(memory_mb, ib.numel() * 4 * 3 + 64 * k, ia.numel())
            for start in range(0, ia.numel(), rows):
                ra = ia[start:start + rows]
                s = torch.addmm(bn, x32[ra], b32.T, beta=1.0, alpha=-2.0)
                s.add_(xn32[ra][:, None])
                v, j = torch.topk(s, min(k, s.shape[1]), dim=1, largest=False)
                merge(ra, v, ib[j])
                v, j = torch.topk(s, min(k, s.shape[0]), dim=0, largest=False)
                merge(ib, v.T.contiguous(), ra[j.T.contiguous()])
    # exact float64 re-measure of the k candidates, certified against the k-th bound
    idx_out = np.full(m, -1, dtype=np.int64)
    dist_out = np.full(m, np.inf)
    bound = (d + 3) * _EPS32 * (xn + float(xn.max()))
    _, inv, counts = np.unique(pred, return_inverse=True, return_counts=True)
    n_other = m - counts[inv]  # per row: reference traces of other classes
    rows = chunk_rows(memory_mb, k * d * 8 * 3, m)
    uncertain = []
    for start, stop in chunks(m, rows):
        cand = best_i[start:stop]
        valid = cand >= 0
        diff = xt64[start:stop, None, :] - xt64[cand.clamp(min=0)]
        d2 = torch.where(valid, (diff * diff).sum(-1), torch.full(cand.shape, math.inf, dtype=torch.float64, device=dev))
        del diff
        best, pos = d2.min(dim=1)
        best_np = best.cpu().numpy()
        idx_out[start:stop] = np.where(np.isfinite(best_np), cand.gather(1, pos[:, None])[:, 0].cpu().numpy(), -1)
        dist_out[start:stop] = np.sqrt(best_np)
        last = best_v[start:stop, -1].to(torch.float64).cpu().numpy()
        lower = last - bound[start:stop]
        bad = np.nonzero((lower < best_np) & (best_np > 0) & (n_other[start:stop] > k))[0]
        uncertain.extend((start + bad).tolist())
    if uncertain:
        unc = np.asarray(uncertain, dtype=np.int64)
        for c in np.unique(pred[unc]):
            sel = unc[pred[unc] == c]
            others = np.nonzero(pred != c)[0]
            pos, dist = nearest(refs[sel], refs[others], memory_mb=memory_mb, device=device, k=k)
            idx_out[sel] = np.where(pos >= 0, others[np.maximum(pos, 0)], -1)
            dist_out[sel] = dist
    return idx_out, dist_out
