"""The exact nearest-neighbour engine of DSA, DATIS and NNS: :func:`knn`, :func:`nearest` and
:func:`nearest_other_class`. Torch chunks on any device; on the CPU, the compiled kernels of
:mod:`._knn_cpu`. Input coercion and chunk sizes come from :mod:`._common`."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from ..hardware import check_fits, memory_budget_mb
from ._common import DEFAULT_MEMORY_MB, chunk_rows, chunks, torch_device

_EPS32 = float(np.finfo(np.float32).eps)


def uncertain_rows(last, qn, kth, bound: float, rn_max: float, excluded: bool) -> np.ndarray:
    """Rows whose k-th exact squared distance ``kth`` is not certified: some reference left out
    of the candidates (float32 score >= ``last``) may lie nearer, by the float32 error bound
    ``bound (||q||^2 + max ||r||^2)``; with exclusions also rows left with too few candidates."""
    lower = last + qn - bound * (qn + rn_max)
    bad = (lower < kth) & (kth > 0)
    if excluded:
        bad |= ~np.isfinite(kth)
    return np.nonzero(bad)[0]


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
