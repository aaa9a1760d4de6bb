"""Plain per-input DSA and LSA, straight from the published definitions (slow).

For tests and benchmarks of the fast versions in ``dsa.py`` and ``lsa.py``; one loop
iteration per target, numpy and ``scipy.stats.gaussian_kde`` only.
"""

from __future__ import annotations

import numpy as np


def dsa_plain(train_ats, train_pred, target_ats, target_pred, exclude_self=None) -> np.ndarray:
    """``DSA(x) = ||x - x_a|| / ||x_a - x_b||`` per target (Kim et al. 2019).

    ``x_a``: nearest reference trace of x's predicted class; ``x_b``: nearest reference
    trace of another class to ``x_a``. With ``exclude_self``, target i's reference set is
    the reference set without row ``exclude_self[i]`` (when >= 0). 0/0 = 0, x/0 = inf,
    no reference trace of x's class: inf.
    """
    train = np.asarray(train_ats, dtype=np.float64)
    target = np.asarray(target_ats, dtype=np.float64)
    train_pred = np.asarray(train_pred)
    out = np.empty(target.shape[0])
    for i, (x, c) in enumerate(zip(target, target_pred)):
        keep = np.ones(train.shape[0], dtype=bool)
        if exclude_self is not None and exclude_self[i] >= 0:
            keep[exclude_self[i]] = False
        ref, pred = train[keep], train_pred[keep]
        same, other = ref[pred == c], ref[pred != c]
        if same.shape[0] == 0:
            out[i] = np.inf
            continue
        d_same = np.linalg.norm(same - x, axis=1)
        a = np.argmin(d_same)
        x_a = same[a]
        d_ab = np.linalg.norm(other - x_a, axis=1).min() if other.shape[0] else np.inf
        num = d_same[a]
        out[i] = 0.0 if num == 0 else (np.inf if d_ab == 0 else num / d_ab)
    return out


def lsa_plain(train_ats, train_pred, target_ats, target_pred, var_threshold=1e-5,
              var_filter="union", exclude_self=None) -> np.ndarray:
    """``LSA(x) = -log f_c(x)`` per target with ``f_c = scipy.stats.gaussian_kde`` of the
    reference traces of x's predicted class (Kim et al. 2019), after the variance filter
    (``np.var < var_threshold``: union over classes, or per class).

    With ``exclude_self``, the target's own kernel is left out of the sum (same KDE
    bandwidth): ``f(x) = 1/(n-1) sum_{i != self} N(x; r_i, H)``.
    Needs well-conditioned classes (no fallbacks).
    """
    from scipy.special import logsumexp
    from scipy.stats import gaussian_kde

    train = np.asarray(train_ats, dtype=np.float64)
    target = np.asarray(target_ats, dtype=np.float64)
    train_pred = np.asarray(train_pred)
    classes = np.unique(train_pred)
    low = {c: train[train_pred == c].var(axis=0) < var_threshold for c in classes}
    union = np.zeros(train.shape[1], dtype=bool)
    for v in low.values():
        union |= v
    kdes, cols = {}, {}
    for c in classes:
        cols[c] = np.nonzero(~(union if var_filter == "union" else low[c]))[0]
        kdes[c] = gaussian_kde(train[train_pred == c][:, cols[c]].T)
    out = np.empty(target.shape[0])
    for i, (x, c) in enumerate(zip(target, target_pred)):
        kde, xc = kdes[c], x[cols[c]]
        if exclude_self is None or exclude_self[i] < 0 or train_pred[exclude_self[i]] != c:
            out[i] = -kde.logpdf(xc[:, None])[0]
            continue
        members = np.nonzero(train_pred == c)[0]
        keep = members != exclude_self[i]
        diff = kde.dataset.T[keep] - xc
        inv = np.linalg.inv(kde.covariance)
        m = np.einsum("ij,jk,ik->i", diff, inv, diff)
        _, logdet = np.linalg.slogdet(2 * np.pi * kde.covariance)
        out[i] = -(logsumexp(-0.5 * m) - np.log(keep.sum()) - 0.5 * logdet)
    return out
