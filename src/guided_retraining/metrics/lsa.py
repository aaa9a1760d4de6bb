"""Likelihood-based surprise adequacy (LSA), fast, exact and robust.

Kim, Feldt, Yoo 2019, "Guiding deep learning system testing using surprise adequacy":
``LSA(x) = -log f_c(x)`` with ``f_c`` a Gaussian KDE of the reference traces whose
predicted class ``c`` is x's predicted class. As ``scipy.stats.gaussian_kde`` (the
study's): Scott's factor ``h = n^(-1/(d+4))``, kernel covariance ``H = h^2 S`` with ``S``
the sample covariance (ddof=1), and

    f_c(x) = 1/n sum_i N(x; r_i, H)
    -log f_c(x) = -logsumexp_i(-||L^-1 (x - r_i)||^2 / 2) + log n + d/2 log(2 pi) + sum log diag L

with ``H = L L^T`` (Cholesky). Computed per class as whitening + chunked matrix
products + logsumexp in float64 (CPU or CUDA). Scored inputs that are reference
traces of their class (bit-identical) take their density from the symmetric
member-member kernel sums instead, each block computed once for both of its sides.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import ConfigError, DataError
from ..hardware import memory_budget_mb
from ..progress import Progress
from ._common import (DEFAULT_MEMORY_MB, LOG, as_surprise_inputs, chunk_rows, chunks, match_reference, torch_device)

VAR_FILTERS = ("union", "per_class")

#: Use the symmetric member-member kernel sums for a class when more than this fraction
#: of its reference traces are themselves scored (bit-identical targets).
SYMMETRIC_FRACTION = 0.5
#: Kernel sums below this are recomputed with the shifted logsumexp (underflow guard).
UNDERFLOW = 1e-250


def lsa(train_ats, train_pred, target_ats, target_pred, var_threshold: float = 1e-5, *,
        var_filter: str = "union", exclude_self=None, memory_mb: float = DEFAULT_MEMORY_MB,
        device="cpu", return_info: bool = False, log: logging.Logger | None = None):
    """LSA of each target; float64 array (and a JSON-ready info dict with ``return_info=True``).

    Variance filter (Kim et al.'s code, population variance ``np.var``): with
    ``var_filter="union"`` (the study) a neuron is dropped for every class when its
    variance is below ``var_threshold`` in any class; with ``"per_class"`` each class's
    KDE drops only its own low-variance neurons.

    ``exclude_self``: int array (targets,), each target's own index in the reference set (for an
    adversarial input, its clean source's: workflow's ``idx_adv_train``)
    or -1: the target's density leaves out its own kernel (``1/(n-1) sum_{i != self}``,
    same bandwidth), the leakage fix.

    Never NaN; fallbacks (each counted in ``info["fallbacks"]`` and logged):

    * classes with fewer than 2 reference traces do not take part in the union filter;
      when the union filter keeps no neuron, the per-class filter is used; a class whose
      filter keeps no neuron uses the neurons with variance over all reference traces,
      or all neurons;
    * a class with fewer than 2 reference traces uses the covariance of all reference
      traces (its own is undefined);
    * a kernel covariance that is not positive definite (fewer traces than neurons,
      collinear neurons) gets a ridge ``lambda I``, ``lambda`` = 1e-10, 1e-9, ... times
      its mean variance, until the Cholesky factorisation succeeds;
    * a target whose predicted class has no reference trace (left, after exclusion) is
      scored under the KDE of all reference traces.
    """
    if var_filter not in VAR_FILTERS:
        raise ConfigError(f"var_filter: {var_filter!r} is not one of {', '.join(VAR_FILTERS)}")
    train, tr_pred, target, tg_pred, excl = as_surprise_inputs(train_ats, train_pred, target_ats, target_pred,
                                                               exclude_self)
    user_log, log = log, log or LOG
    if train.shape[0] == 0:
        raise DataError("train_ats: the reference set is empty")
    n_t, n_neurons = target.shape
    fallbacks: list[str] = []

    def fallback(msg: str) -> None:
        fallbacks.append(msg)
        log.warning("lsa: %s", msg)

    classes = np.unique(tr_pred)
    members = {int(c): np.nonzero(tr_pred == c)[0] for c in classes}
    variances = {c: idx_var(train[idx]) for c, idx in members.items() if idx.size >= 2}
    pooled_var = train.var(axis=0) if train.shape[0] else np.zeros(n_neurons)
    pooled_keep = np.nonzero(pooled_var >= var_threshold)[0]
    if pooled_keep.size == 0:
        pooled_keep = np.arange(n_neurons)
    small = [c for c, idx in members.items() if idx.size < 2]
    if small and var_filter == "union":
        fallback(f"classes {small} have fewer than 2 reference traces: left out of the variance filter")

    keep: dict[int | str, np.ndarray] = {}
    mode = var_filter
    if var_filter == "union":
        low = np.zeros(n_neurons, dtype=bool)
        for v in variances.values():
            low |= v < var_threshold
        union_keep = np.nonzero(~low)[0]
        if union_keep.size == 0:
            fallback("the union variance filter keeps no neuron: using the per-class filter")
            mode = "per_class"
        else:
            keep = {c: union_keep for c in members}
            keep["all"] = union_keep
    if mode == "per_class":
        for c in members:
            k = np.nonzero(variances[c] >= var_threshold)[0] if c in variances else pooled_keep
            if k.size == 0:
                fallback(f"class {c}: no neuron passes the variance filter; using the pooled filter")
                k = pooled_keep
            keep[c] = k
        keep["all"] = pooled_keep

    # which KDE scores each target: its class, or all traces ("all")
    counts = {c: idx.size for c, idx in members.items()}
    uniq, inv = np.unique(tg_pred, return_inverse=True)
    n_c = np.array([counts.get(int(c), 0) for c in uniq], dtype=np.int64)[inv]
    if excl is not None:
        n_c = n_c - ((excl >= 0) & (tr_pred[np.maximum(excl, 0)] == tg_pred))
    pooled = n_c < 1
    absent = int(pooled.sum())
    if absent:
        fallback(f"{absent} targets have no reference trace of their predicted class: scored under the KDE of all traces")

    dev = torch_device(device)
    chunk_mb = memory_budget_mb(dev, memory_mb)  # on a GPU, at most half its free memory
    matched = match_reference(train, tr_pred, target, tg_pred)
    same_as_own = np.zeros(n_t, dtype=bool)
    if excl is not None:
        has = excl >= 0
        same_as_own[has] = np.all(target[has] == train[excl[has]], axis=1)
    info_sym: list[str] = []
    scores = np.full(n_t, np.nan)
    kdes = {}
    target_sets = {c: np.nonzero((tg_pred == c) & ~pooled)[0] for c in members}
    target_sets["all"] = np.nonzero(pooled)[0]
    groups = [g for g, idx in target_sets.items() if idx.size]
    progress = Progress(n_t, "lsa", user_log) if user_log else None
    for g in groups:
        sel = target_sets[g]
        ref_idx = members[g] if g != "all" else np.arange(train.shape[0])
        cols = keep[g]
        kde = _fit(train, ref_idx, cols, train, fallback, str(g))
        kdes[str(g)] = kde
        pos = np.full(train.shape[0], -1, dtype=np.int64)  # position of each reference trace in this group, or -1
        pos[ref_idx] = np.arange(ref_idx.size)
        ex = None  # position of each target's own trace inside this group, or -1
        if excl is not None:
            e = excl[sel]
            ex = np.where(e >= 0, pos[np.maximum(e, 0)], -1)
            if ref_idx.size == 1:
                ex[:] = -1  # nothing would be left: keep the only kernel
        # targets that are reference traces of this KDE (the study's scored set contains
        # the training set): their densities come from the symmetric member-member kernel
        # sums, half the products
        member = np.full(sel.size, -1, dtype=np.int64)
        if g != "all":
            hit = matched[sel]
            if ex is not None:
                own = ex >= 0
                hit = np.where(own, np.where(same_as_own[sel], excl[sel], -1), hit)
            member = np.where(hit >= 0, pos[np.maximum(hit, 0)], -1)
        done = np.zeros(sel.size, dtype=bool)
        if np.unique(member[member >= 0]).size > SYMMETRIC_FRACTION * ref_idx.size:
            off_diag = _member_kernel_sums(kde, chunk_mb, dev)
            use = member >= 0
            own = use & (ex == member) if ex is not None else np.zeros(sel.size, dtype=bool)
            total = off_diag[np.maximum(member, 0)] + np.where(own, 0.0, 1.0)
            n_eff = np.where(own, ref_idx.size - 1, ref_idx.size)
            done = use & (total > UNDERFLOW)  # else the shifted logsumexp below
            with np.errstate(divide="ignore"):
                vals = np.log(n_eff) + kde["log_norm"] - np.log(total)
            scores[sel[done]] = vals[done]
            info_sym.append(str(g))
            if progress is not None:
                progress.update(int(done.sum()))
        rest = ~done
        scores[sel[rest]] = _neg_logpdf(kde, target[sel[rest]][:, cols], None if ex is None else ex[rest],
                                        chunk_mb, dev, progress)

    scores = np.where(np.isnan(scores), np.inf, scores)
    if not return_info:
        return scores
    info = {
        "metric": "lsa", "n_targets": int(n_t), "n_reference": int(train.shape[0]),
        "n_neurons": int(n_neurons), "var_threshold": float(var_threshold),
        "var_filter": var_filter, "var_filter_used": mode, "exclude_self": excl is not None,
        "neurons_kept": {g: [int(j) for j in keep[g if g == "all" else int(g)]] for g in kdes},
        "kdes": {g: {k: v for k, v in kde.items() if k in ("n", "dims", "bandwidth", "ridge", "covariance_source")}
                 for g, kde in kdes.items()},
        "symmetric_kernel_sums": info_sym, "fallbacks": fallbacks, "memory_mb": float(memory_mb), "device": str(device),
    }
    return scores, info


def idx_var(x: np.ndarray) -> np.ndarray:
    """Population variance per neuron (``np.var``, as in Kim et al.'s filter)."""
    return x.var(axis=0)


def _fit(train, ref_idx, cols, all_train, fallback, name):
    """Kernel of one KDE: whitened reference traces and the log normaliser."""
    from scipy.linalg import solve_triangular

    ref = train[np.ix_(ref_idx, cols)]
    n, d = ref.shape
    factor = n ** (-1.0 / (d + 4))  # Scott's rule, as gaussian_kde
    source = "class"
    if n >= 2:
        cov = np.atleast_2d(np.cov(ref, rowvar=False, ddof=1))
    else:
        source = "all traces"
        fallback(f"KDE {name}: {n} reference trace(s), using the covariance of all reference traces")
        pooled = all_train[:, cols]
        cov = np.atleast_2d(np.cov(pooled, rowvar=False, ddof=1)) if pooled.shape[0] >= 2 else np.zeros((d, d))
    kcov = cov * factor**2
    chol, ridge = _cholesky(kcov)
    if ridge:
        fallback(f"KDE {name}: covariance not positive definite, ridge {ridge:.3g} added to its diagonal")
    center = ref.mean(axis=0)
    white = solve_triangular(chol, (ref - center).T, lower=True).T
    log_norm = 0.5 * d * math.log(2 * math.pi) + float(np.log(np.diag(chol)).sum())
    return {"n": int(n), "dims": int(d), "bandwidth": float(factor), "ridge": float(ridge),
            "covariance_source": source, "chol": chol, "center": center, "white": white,
            "log_norm": log_norm}


def _cholesky(cov):
    """Lower Cholesky factor of ``cov``; adds a growing ridge until it is positive definite."""
    d = cov.shape[0]
    try:
        chol = np.linalg.cholesky(cov)
        if np.all(np.isfinite(chol)) and np.all(np.diag(chol) > 0):
            return chol, 0.0
    except np.linalg.LinAlgError:
        pass
    scale = float(np.mean(np.diag(cov))) if d else 1.0
    if not scale > 0:
        scale = 1.0
    for power in range(-10, 3):
        ridge = scale * 10.0**power
        try:
            chol = np.linalg.cholesky(cov + ridge * np.eye(d))
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(chol)) and np.all(np.diag(chol) > 0):
            return chol, ridge
    return np.eye(d) * math.sqrt(scale), scale  # unreachable in practice


def _neg_logpdf(kde, x, exclude, memory_mb, dev, progress):
    """``-log f(x)`` per row of ``x`` (already restricted to the KDE's neurons)."""
    import torch
    from scipy.linalg import solve_triangular

    n, d = kde["white"].shape
    out = np.empty(x.shape[0])
    if x.shape[0] == 0:
        return out
    zx = solve_triangular(kde["chol"], (x - kde["center"]).T, lower=True).T
    zr = torch.from_numpy(np.ascontiguousarray(kde["white"])).to(dev)
    # -||zx - zr||^2 / 2 = (zx.zr - ||zr||^2 / 2) - ||zx||^2 / 2: one matrix product per chunk
    half_rn = -0.5 * (zr * zr).sum(1)
    half_xn = 0.5 * np.einsum("ij,ij->i", zx, zx)
    rows = min(chunk_rows(memory_mb, n * 8 * 2 + d * 8, x.shape[0]), 2048)
    for start, stop in chunks(x.shape[0], rows):
        q = torch.from_numpy(np.ascontiguousarray(zx[start:stop])).to(dev)
        s = torch.addmm(half_rn, q, zr.T)
        norm = np.full(stop - start, math.log(n))
        if exclude is not None:
            ex = exclude[start:stop]
            has = np.nonzero(ex >= 0)[0]
            if has.size:
                s[torch.from_numpy(has).to(dev), torch.from_numpy(ex[has]).to(dev)] = -math.inf
                norm[has] = math.log(n - 1)
        top = s.amax(dim=1, keepdim=True)
        lse = (s.sub_(top).exp_().sum(dim=1).log_() + top[:, 0]).cpu().numpy()
        out[start:stop] = norm + kde["log_norm"] + half_xn[start:stop] - lse
        if progress is not None:
            progress.update(stop - start)
    return out


def _member_kernel_sums(kde, memory_mb, dev) -> np.ndarray:
    """``sum_{i != j} exp(-||z_i - z_j||^2 / 2)`` for every member j of the KDE (float64).

    Blocks of the symmetric member-member kernel matrix are computed once, for i <= j,
    and added to both their rows and columns. Every term is at most 1 (no shift needed);
    callers fall back to the shifted logsumexp where a sum underflows.
    """
    import torch

    z = torch.from_numpy(np.ascontiguousarray(kde["white"])).to(dev)
    n = z.shape[0]
    half_n = (0.5 * (z * z).sum(1))[:, None]
    one = torch.ones_like(half_n)
    # [z_i, -|z_i|^2/2, 1] . [z_j, 1, -|z_j|^2/2] = -||z_i - z_j||^2 / 2 in one product
    left = torch.cat([z, -half_n, one], dim=1)
    right = torch.cat([z, one, -half_n], dim=1)
    sums = torch.zeros(n, dtype=torch.float64, device=dev)
    block = max(64, min(1024, chunk_rows(memory_mb, n * 8 * 2, n)))
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        for j0 in range(i0, n, block):
            j1 = min(j0 + block, n)
            s = torch.mm(left[i0:i1], right[j0:j1].T).exp_()  # terms <= 1 (up to rounding)
            if i0 == j0:
                s.fill_diagonal_(0.0)
                sums[i0:i1] += s.sum(1)
            else:
                sums[i0:i1] += s.sum(1)
                sums[j0:j1] += s.sum(0)
    return sums.cpu().numpy()
