"""The CPU kernels of the nearest-neighbour engine (``knn.knn``): the candidates of each
query from cache-sized float32 product tiles, then their exact float64 re-measure.

Why not ``addmm`` + ``topk`` over full rows (the torch chunks, which stay the GPU's path): at
MNIST scale (56,000 x 49,000) ``topk(107)`` costs a third of the products, and a row chunk
(rows x all references) does not stay in the cache. Here:

* Products come in square tiles of ``TILE`` = 1024 (4 MiB of float32, read back from the cache
  right after BLAS writes them), one BLAS thread per worker.
* Each query keeps the scores below its threshold (at most ``3 kk``, then the ``kk`` smallest
  are kept and the threshold becomes the kk-th). A vectorised count over a tile row (the same
  scores and comparisons as the keeping) skips rows with nothing below the threshold; a query's
  first tile sets its threshold from that tile's own kk-th score.
* References and queries are sorted by a small k-means and the tile pairs taken nearest
  first (by their centres), so thresholds tighten early. This orders the work only.
* Where queries are reference rows (NNS: the scored set against itself; DATIS: Train* against
  Train, whose first rows are Train; ``identical_rows``), their products are computed for the
  upper triangle only and each tile scanned along its rows and its columns: half the products.
* Tiles are dealt in turn to ``threads`` workers, each with its own kept scores (merged at the
  end: a score a worker dropped is above its threshold, hence above the merged kk-th).

The result is exact: no score left out is below the kk-th kept one, and ``knn.knn``
certifies it against the float32 error bound as for the torch chunks. Kernels are numba
functions that release the GIL (compiled once, cached beside this file).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from ._common import chunks, row_hashes

#: Side of a square product tile (4 MiB of float32).
TILE = 1024
#: Fast-math flags of the scans: no NaN or inf, no signed zeros, fused multiply-add (exact here:
#: ``2 p`` is). Without ``reassoc`` the vectorised count computes each score and comparison
#: exactly as the keeping does, so it never skips a row with a score below the threshold.
#: Thresholds start at the largest float32, not inf, and ``knn`` sends only inputs whose
#: float32 scores are finite.
_FAST = {"nnan", "ninf", "nsz", "contract"}
_EMPTY = float(np.finfo(np.float32).max)


@njit(nogil=True, cache=True)
def _compact(vals, rid, count, top, q, kk):  # pragma: no cover - compiled
    """Keep query ``q``'s ``kk`` smallest scores (ties at the kk-th: the first kept); its
    threshold becomes the kk-th score."""
    n = count[q]
    kth = np.partition(vals[q, :n], kk - 1)[kk - 1]
    ties = kk
    for c in range(n):
        ties -= vals[q, c] < kth
    w = 0
    for c in range(n):  # in place: w <= c
        v = vals[q, c]
        if v < kth or (v == kth and ties > 0):
            if v == kth:
                ties -= 1
            vals[q, w] = v
            rid[q, w] = rid[q, c]
            w += 1
    count[q] = kk
    top[q] = kth


@njit(nogil=True, cache=True, fastmath=_FAST)
def _scan_rows(p, add, ids, row_query, exclude, vals, rid, count, top, kk, r0, r1):  # pragma: no cover - compiled
    """Rows ``r0:r1`` of the product tile ``p``: query ``row_query[i]`` meets reference
    ``ids[j]`` with score ``add[j] - 2 p[i, j]``; scores below the query's threshold are kept."""
    two = np.float32(2.0)
    n = p.shape[1]
    cap = vals.shape[1]
    scratch = np.empty(n, dtype=np.float32)
    for i in range(r0, r1):
        q = row_query[i]
        t = top[q]
        row = p[i]
        if count[q] == 0 and n >= kk:  # a first meeting: start from the row's own kk-th score
            ex = exclude[q]
            for j in range(n):
                scratch[j] = add[j] - two * row[j] if ids[j] != ex else np.float32(_EMPTY)
            t = np.nextafter(np.partition(scratch, kk - 1)[kk - 1], np.float32(_EMPTY))
            top[q] = t
        below = 0
        for j in range(n):  # vectorised: the same scores and comparison as below
            below += add[j] - two * row[j] < t
        if below == 0:
            continue
        ex = exclude[q]  # read here, not once above: hoisted, it cost NNS 0.5 s (measured)
        for j in range(n):
            v = add[j] - two * row[j]
            if v < t and ids[j] != ex:
                c = count[q]
                vals[q, c] = v
                rid[q, c] = ids[j]
                count[q] = c + 1
                if c + 1 == cap:
                    _compact(vals, rid, count, top, q, kk)
                    t = top[q]


@njit(nogil=True, cache=True, fastmath=_FAST)
def _scan_cols(p, add, ids, col_query, exclude, vals, rid, count, top, kk, c0, c1):  # pragma: no cover - compiled
    """Columns ``c0:c1`` of ``p``: query ``col_query[j]`` meets reference ``ids[i]`` (a row)
    with score ``add[i] - 2 p[i, j]``; read row by row against a copy of the thresholds."""
    two = np.float32(2.0)
    cap = vals.shape[1]
    w = c1 - c0
    t = np.empty(w, dtype=np.float32)
    scratch = np.empty(p.shape[0], dtype=np.float32)
    for j in range(w):
        q = col_query[c0 + j]
        if count[q] == 0 and p.shape[0] >= kk:  # a first meeting: start from the column's kk-th score
            ex = exclude[q]
            for i in range(p.shape[0]):
                scratch[i] = add[i] - two * p[i, c0 + j] if ids[i] != ex else np.float32(_EMPTY)
            top[q] = np.nextafter(np.partition(scratch, kk - 1)[kk - 1], np.float32(_EMPTY))
        t[j] = top[q]
    for i in range(p.shape[0]):
        a = add[i]
        row = p[i, c0:c1]
        below = 0
        for j in range(w):  # vectorised: the same scores and comparison as below
            below += a - two * row[j] < t[j]
        if below == 0:
            continue
        r = ids[i]
        for j in range(w):
            v = a - two * row[j]
            if v < t[j]:
                q = col_query[c0 + j]
                if exclude[q] != r:
                    c = count[q]
                    vals[q, c] = v
                    rid[q, c] = r
                    count[q] = c + 1
                    if c + 1 == cap:
                        _compact(vals, rid, count, top, q, kk)
                        t[j] = top[q]


@njit(nogil=True, cache=True)
def _merge(vals, rid, count, kk, cand, last, r0, r1):  # pragma: no cover - compiled
    """Queries ``r0:r1``: the ``kk`` smallest of the workers' kept scores (references in
    ``cand``, -1 where fewer) and the kk-th score in ``last`` (inf where fewer)."""
    for q in range(r0, r1):
        n = 0
        for w in range(vals.shape[0]):
            n += count[w, q]
        v = np.empty(n, dtype=np.float32)
        ix = np.empty(n, dtype=np.int64)
        pos = 0
        for w in range(vals.shape[0]):
            for c in range(count[w, q]):
                v[pos] = vals[w, q, c]
                ix[pos] = rid[w, q, c]
                pos += 1
        if n > kk:
            kth = np.partition(v, kk - 1)[kk - 1]
            ties = kk
            for c in range(n):
                ties -= v[c] < kth
            pos = 0
            for c in range(n):
                if v[c] < kth or (v[c] == kth and ties > 0):
                    if v[c] == kth:
                        ties -= 1
                    cand[q, pos] = ix[c]
                    pos += 1
            last[q] = kth
        else:
            for c in range(n):
                cand[q, c] = ix[c]
            for c in range(n, kk):
                cand[q, c] = -1
            last[q] = np.max(v) if n == kk and n > 0 else np.inf


@njit(nogil=True, cache=True)
def _remeasure(q64, r64s, pos, rows, cand, d2, r0, r1):  # pragma: no cover - compiled
    """Queries ``rows[r0:r1]``: candidates sorted by (exact float64 ``sum((q - r)^2)``, index),
    -1 last; reference ``j`` is row ``pos[j]`` of ``r64s``."""
    k = cand.shape[1]
    dim = q64.shape[1]
    for s in range(r0, r1):
        i = rows[s]
        row = np.sort(cand[i])
        n_valid = 0
        for c in range(k):
            if row[c] >= 0:
                row[n_valid] = row[c]
                n_valid += 1
        vals = np.empty(n_valid)
        for c in range(n_valid):
            j = pos[row[c]]
            acc = 0.0
            for t in range(dim):
                x = q64[i, t] - r64s[j, t]
                acc += x * x
            vals[c] = acc
        order = np.argsort(vals, kind="mergesort")  # stable: ties keep the lower index
        for c in range(n_valid):
            cand[i, c] = row[order[c]]
            d2[i, c] = vals[order[c]]
        for c in range(n_valid, k):
            cand[i, c] = -1
            d2[i, c] = np.inf


def _parts(n: int, parts: int):
    """``range(n)`` in ``parts`` near-equal (start, stop) pieces (for ``parts`` threads)."""
    return list(chunks(n, max(-(-n // max(parts, 1)), 1)))


def cluster_order(refs32, queries32, *, clusters: int = 64, iterations: int = 6, sample: int = 8192, seed: int = 0):
    """Cluster labels of the references and the queries from a small k-means (Lloyd on a seeded
    sample of the references). They only order the work; the neighbours do not depend on them."""
    import torch

    rng = np.random.default_rng(seed)
    n = refs32.shape[0]
    sub = refs32[torch.from_numpy(np.sort(rng.choice(n, min(sample, n), replace=False)))]
    m = max(1, min(clusters, sub.shape[0]))
    centres = sub[torch.from_numpy(np.sort(rng.choice(sub.shape[0], m, replace=False)))].clone()
    for _ in range(iterations):
        lab = torch.cdist(sub, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, lab, sub)
        cnt = torch.bincount(lab, minlength=m)
        centres = torch.where(cnt[:, None] > 0, sums / cnt.clamp(min=1)[:, None], centres)

    def label(x):
        return np.concatenate([np.zeros(0, np.int64)] + [torch.cdist(x[a:b], centres).argmin(1).numpy()
                                                         for a, b in chunks(x.shape[0], 16384)])

    return label(refs32), label(queries32)


def candidates(q64, r64, rn, kk, exclude, *, memory_mb, threads, progress=None):
    """The ``kk`` smallest float32 scores ``||r||^2 - 2 q.r`` of each query, its ``exclude``
    reference skipped: (index (nq, kk) int64 in no order, -1 where fewer; the kk-th score
    (nq,) float64, inf where fewer; (query order, reference order) by cluster, for ``remeasure``).
    No entry left out scores below the kk-th.

    Work: references and queries sorted by a small k-means and cut into square blocks; the
    block pairs are taken nearest first (by their centres) and dealt in turn to ``threads``
    workers, each with its own kept scores and single-threaded BLAS, merged at the end.
    Queries that are reference rows (``identical_rows``) meet the other such rows in the upper
    triangle of their product matrix only, scanned along rows and columns; every other pair
    is computed once and scanned along rows.
    """
    import torch
    from threadpoolctl import threadpool_limits

    nq, nr = q64.shape[0], r64.shape[0]
    workers = max(int(threads), 1)
    tile = max(1, min(TILE, int((memory_mb * 2**20 / 4 / workers) ** 0.5)))
    cap = 3 * kk  # kept scores per query between compactions (measured: 2 kk slower, 4 kk no faster)
    vals = np.empty((workers, nq, cap), dtype=np.float32)
    rid = np.empty((workers, nq, cap), dtype=np.int32)
    count = np.zeros((workers, nq), dtype=np.int64)
    top = np.full((workers, nq), _EMPTY, dtype=np.float32)
    excl = np.full(nq, -1, dtype=np.int64) if exclude is None else np.ascontiguousarray(exclude, dtype=np.int64)
    r32 = np.ascontiguousarray(r64, dtype=np.float32)
    q32 = np.ascontiguousarray(q64, dtype=np.float32)
    rn32 = rn.astype(np.float32)
    ref_lab, q_lab = cluster_order(torch.from_numpy(r32), torch.from_numpy(q32))
    pq, pr = identical_rows(q64, r64)
    if pq.size < 2 * tile:  # too few shared rows for the triangle to pay
        pq, pr = pq[:0], pr[:0]
    o = np.argsort(ref_lab[pr], kind="stable")  # the shared rows by cluster, then the others
    pq, pr = pq[o], pr[o]
    rest_r = np.setdiff1d(np.arange(nr), pr, assume_unique=True)
    rest_r = rest_r[np.argsort(ref_lab[rest_r], kind="stable")]
    rest_q = np.setdiff1d(np.arange(nq), pq, assume_unique=True)
    rest_q = rest_q[np.argsort(q_lab[rest_q], kind="stable")]

    # blocks of ``tile`` rows: (query ids or None, reference ids or None, float32 rows); shared blocks are both
    shared = [(pq[a:b], pr[a:b], r32[pr[a:b]]) for a, b in chunks(pq.size, tile)]
    ref_blocks = shared + [(None, rest_r[a:b], r32[rest_r[a:b]]) for a, b in chunks(rest_r.size, tile)]
    row_blocks = shared + [(rest_q[a:b], None, q32[rest_q[a:b]]) for a, b in chunks(rest_q.size, tile)]
    adds = [rn32[ids] for _, ids, _ in ref_blocks]
    centre = [x.mean(axis=0, dtype=np.float64) for _, _, x in ref_blocks]
    work = []  # (squared distance of the block centres, row block, reference block)
    for i, (_, _, x) in enumerate(row_blocks):
        c = centre[i] if i < len(shared) else x.mean(axis=0, dtype=np.float64)
        for j in range(i if i < len(shared) else 0, len(ref_blocks)):
            work.append((float(np.sum((c - centre[j]) ** 2)), i, j))
    work.sort(key=lambda w: w[0])
    lock = threading.Lock()
    done = [0, 0]  # tiles, queries reported

    def run(w):
        buf = np.empty(tile * tile, dtype=np.float32)
        for _, i, j in work[w::workers]:
            row_q, row_r, a = row_blocks[i]
            col_q, col_r, b = ref_blocks[j]
            p = buf[: a.shape[0] * b.shape[0]].reshape(a.shape[0], b.shape[0])
            np.matmul(a, b.T, out=p)
            _scan_rows(p, adds[j], col_r, row_q, excl, vals[w], rid[w], count[w], top[w], kk, 0, a.shape[0])
            if row_r is not None and col_q is not None and i != j:
                _scan_cols(p, adds[i], row_r, col_q, excl, vals[w], rid[w], count[w], top[w], kk, 0, b.shape[0])
            if progress is not None:
                with lock:
                    done[0] += 1
                    now = nq * done[0] // len(work)
                    progress.update(now - done[1])
                    done[1] = now

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        for f in [pool.submit(run, w) for w in range(workers)]:
            f.result()
        cand = np.empty((nq, kk), dtype=np.int64)
        last = np.empty(nq, dtype=np.float64)
        for f in [pool.submit(_merge, vals, rid, count, kk, cand, last, a, b) for a, b in _parts(nq, workers)]:
            f.result()
    return cand, last, (np.concatenate([pq, rest_q]), np.concatenate([pr, rest_r]))


def remeasure(q64, r64, cand, *, threads, order):
    """Candidates sorted by (exact float64 squared distance ``sum((q - r)^2)``, index) and those
    distances (inf and index -1 where a row has fewer candidates). ``order``: (query order,
    reference order) that keeps near rows together (``candidates``' clusters), for the cache."""
    cand = np.ascontiguousarray(cand, dtype=np.int64).copy()
    d2 = np.empty(cand.shape)
    q64 = np.ascontiguousarray(q64, dtype=np.float64)
    rows, ref_order = order
    r64s = np.ascontiguousarray(r64[ref_order], dtype=np.float64)
    pos = np.empty(r64.shape[0], dtype=np.int64)
    pos[ref_order] = np.arange(r64.shape[0])
    workers = max(int(threads), 1)
    with ThreadPoolExecutor(workers) as pool:
        for f in [pool.submit(_remeasure, q64, r64s, pos, rows, cand, d2, a, b)
                  for a, b in _parts(rows.size, 4 * workers)]:
            f.result()
    return cand, d2


def identical_rows(queries: np.ndarray, refs: np.ndarray):
    """Pairs ``(query, reference)`` of identical rows (bit for bit, up to the sign of zero),
    sorted by reference; each row in one pair at most: the i-th copy of a row among the
    queries pairs with its i-th copy among the references. Rows are hashed (``row_hashes``) and
    candidate pairs compared in full."""
    none = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if queries is refs or (queries.shape == refs.shape and np.array_equal(queries, refs)):
        return np.arange(queries.shape[0]), np.arange(refs.shape[0])
    if queries.shape[1] != refs.shape[1] or not queries.size or not refs.size:
        return none
    def sorted_hashes(x):
        h = row_hashes(x)
        order = np.argsort(h, kind="stable")
        return h[order], order

    hq, oq = sorted_hashes(queries)
    hr, orf = sorted_hashes(refs)
    first = np.searchsorted(hq, hq, side="left")
    pos = np.searchsorted(hr, hq, side="left") + (np.arange(hq.size) - first)  # the same copy among refs
    ok = pos < hr.size
    ok[ok] = hr[pos[ok]] == hq[ok]
    qi, ri = oq[ok], orf[pos[ok]]
    same = np.all(queries[qi] == refs[ri], axis=1)
    order = np.argsort(ri[same], kind="stable")
    return qi[same][order], ri[same][order]


_READY = threading.Lock()
_ready = False


def warm_up() -> None:
    """Run every kernel once on a few rows (a triangle, its diagonal and rows of their own), so
    that numba loads them from its cache, or compiles them, before anything is timed."""
    global _ready
    with _READY:
        if _ready:
            return
        x = np.random.default_rng(0).normal(size=(64, 3))
        rn = np.einsum("ij,ij->i", x, x)
        q = np.concatenate([x, x[:8] + 1.0])
        cand, _, order = candidates(q, x, rn, 4, np.full(q.shape[0], -1, dtype=np.int64), memory_mb=1e-3, threads=2)
        remeasure(q, x, cand, threads=2, order=order)
        _ready = True
