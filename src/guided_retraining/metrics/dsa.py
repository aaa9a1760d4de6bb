"""Distance-based surprise adequacy (DSA), fast and exact.

Kim, Feldt, Yoo 2019, "Guiding deep learning system testing using surprise adequacy":
``DSA(x) = ||x - x_a|| / ||x_a - x_b||`` with ``x_a`` the nearest reference trace of x's
predicted class and ``x_b`` the nearest reference trace of any other class to ``x_a``
(Euclidean; classes are the model's predicted classes of the reference inputs).
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import DataError
from ..progress import Progress
from ._common import DEFAULT_MEMORY_MB, as_surprise_inputs, match_reference, safe_ratio
from .knn import nearest, nearest_other_class

#: Search the denominators of all reference traces at once (symmetric class-pair blocks,
#: half the products of searching them all one by one) when more than this fraction of
#: them is needed; below it, searching only the needed ones is cheaper.
SYMMETRIC_FRACTION = 0.7


def dsa(train_ats, train_pred, target_ats, target_pred, *, exclude_self=None,
        memory_mb: float = DEFAULT_MEMORY_MB, device="cpu", return_info: bool = False,
        log: logging.Logger | None = None):
    """DSA of each target; float64 array (and an info dict with ``return_info=True``).

    ``DSA(x) = dist(x, x_a) / dist(x_a, x_b)`` (Kim et al. 2019), exact in float64.

    Work saved against the per-input definition, without changing a value:

    * ``dist(x_a, x_b)`` depends only on ``x_a``; it is computed once per reference trace
      that is some target's ``x_a``; when that is most of them, for all at once, each
      block of distances between two classes serving both (half the products).
    * A target identical to a reference trace of its predicted class has
      ``dist(x, x_a) = 0`` and so DSA 0 (the study's reference inputs inside the scored
      set); its search is skipped (not with ``exclude_self``).
    * Nearest neighbours come from chunked float32 matrix products, re-measured exactly
      in float64 (see ``knn.nearest``), within ``memory_mb`` MiB per chunk, on ``device``.

    ``exclude_self``: int array (targets,), each target's own index in the reference set (for an
    adversarial input, its clean source's: workflow's ``idx_adv_train``)
    or -1; that reference trace is left out of the target's reference set (the study's
    leakage fix). Conventions: ``0/0 = 0`` and ``x/0 = inf``; a target whose predicted
    class has no reference trace (left) scores ``inf``. Ties between equidistant
    candidates are broken arbitrarily (the distances are the same).
    """
    train, tr_pred, target, tg_pred, excl = as_surprise_inputs(train_ats, train_pred, target_ats, target_pred,
                                                               exclude_self)
    classes = np.unique(tr_pred)
    if classes.size < 2:
        raise DataError("DSA needs reference traces of at least two predicted classes")
    n_t = target.shape[0]
    info = {"metric": "dsa", "n_targets": int(n_t), "n_reference": int(train.shape[0]),
            "n_neurons": int(train.shape[1]), "classes": [int(c) for c in classes],
            "exclude_self": excl is not None, "memory_mb": float(memory_mb), "device": str(device)}

    dist_xa = np.full(n_t, np.inf)
    a_idx = np.full(n_t, -1, dtype=np.int64)
    todo = np.ones(n_t, dtype=bool)
    if excl is None:
        same = match_reference(train, tr_pred, target, tg_pred) >= 0
        dist_xa[same] = 0.0
        todo[same] = False
        info["identical_to_reference"] = int(same.sum())

    # position of every reference trace inside its class
    pos_in_class = np.empty(train.shape[0], dtype=np.int64)
    members = {}
    for c in classes:
        idx = np.nonzero(tr_pred == c)[0]
        members[int(c)] = idx
        pos_in_class[idx] = np.arange(idx.size)

    work_classes = np.unique(tg_pred[todo])
    n_work = int(todo.sum())
    progress = Progress(2 * max(n_work, 1), "dsa nearest neighbours", log) if log else None
    no_ref = 0
    for c in work_classes:
        sel = np.nonzero(todo & (tg_pred == c))[0]
        idx = members.get(int(c))
        if idx is None:
            no_ref += sel.size
            if progress:
                progress.update(sel.size)
            continue
        ex = None
        if excl is not None:
            e = excl[sel]
            ex = np.where((e >= 0) & (tr_pred[np.maximum(e, 0)] == c), pos_in_class[np.maximum(e, 0)], -1)
        pos, dist = nearest(target[sel], train[idx], exclude=ex, memory_mb=memory_mb, device=device,
                            progress=progress)
        ok = pos >= 0
        a_idx[sel[ok]] = idx[pos[ok]]
        dist_xa[sel] = dist
    info["targets_without_reference_class"] = int(no_ref)

    # dist(x_a, x_b) once per reference trace that is some target's x_a
    needed = np.unique(a_idx[a_idx >= 0])
    ab = np.full(train.shape[0], np.inf)
    b_idx = np.full(train.shape[0], -1, dtype=np.int64)
    if needed.size > SYMMETRIC_FRACTION * train.shape[0]:
        # most traces are needed: one pass over the class-pair blocks serves both sides
        b_idx, ab = nearest_other_class(train, tr_pred, memory_mb=memory_mb, device=device)
        if progress:
            progress.update(n_work)
        info["denominator_search"] = "all reference traces, symmetric class-pair blocks"
    else:
        for c in classes:
            sel = needed[tr_pred[needed] == c]
            if sel.size == 0:
                continue
            others = np.nonzero(tr_pred != c)[0]
            pos, dist = nearest(train[sel], train[others], memory_mb=memory_mb, device=device)
            b_idx[sel] = others[pos]
            ab[sel] = dist
            if progress:
                progress.update(int(round(sel.size * n_work / max(needed.size, 1))))
        info["denominator_search"] = "needed reference traces only"
    info["n_reference_denominators"] = int(needed.size)

    den = np.where(a_idx >= 0, ab[np.maximum(a_idx, 0)], np.inf)
    if excl is not None:
        den = _fix_self_as_b(train, tr_pred, excl, a_idx, b_idx, den, memory_mb, device)
    scores = np.where(np.isinf(dist_xa), np.inf, safe_ratio(dist_xa, den))
    if progress and progress.done < progress.total:
        progress.update(progress.total - progress.done)
    info["zero_denominators"] = int(np.sum(den == 0))
    return (scores, info) if return_info else scores


def _fix_self_as_b(train, tr_pred, excl, a_idx, b_idx, den, memory_mb, device):
    """With ``exclude_self``, a target's own trace may not be its ``x_b`` either.

    It can only be when the target's predicted class differs from its reference trace's
    (rare); those denominators are searched again without the target's own trace.
    """
    bad = np.nonzero((excl >= 0) & (a_idx >= 0) & (b_idx[np.maximum(a_idx, 0)] == excl))[0]
    for t in bad:
        a = a_idx[t]
        others = np.nonzero((tr_pred != tr_pred[a]) & (np.arange(train.shape[0]) != excl[t]))[0]
        _, dist = nearest(train[a:a + 1], train[others], memory_mb=memory_mb, device=device)
        den[t] = dist[0]
    return den
