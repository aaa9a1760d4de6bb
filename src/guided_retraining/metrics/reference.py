"""Plain per-input metrics, straight from the published definitions (slow).

For tests and benchmarks of the fast versions (DSA, LSA, DATIS, NNS, MCP, MLSA, MDSA):
one loop iteration per target, numpy, scipy and scikit-learn only.
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


def datis_plain(train_ats, train_labels, target_ats, target_pred, k=100, temperature=0.1) -> np.ndarray:
    """DATIS per target as the authors' loop (Li et al. 2024): L2-normalise, the ``k`` nearest
    training features, ``q_j`` from ``exp(-||z - z_i||^2 / T)``, ``q_alt / (q_pred + 1e-15)``."""
    def unit(x):
        n = np.linalg.norm(x, axis=-1, keepdims=True)
        return x / np.where(n > 0, n, 1.0)

    train = unit(np.asarray(train_ats, dtype=np.float64))
    labels = np.asarray(train_labels)
    n_classes = int(max(labels.max(), np.max(target_pred)) + 1)
    out = np.empty(len(target_ats))
    for i, (x, pred) in enumerate(zip(unit(np.asarray(target_ats, dtype=np.float64)), target_pred)):
        d = np.linalg.norm(train - x, axis=1)
        near = np.argsort(d, kind="stable")[:k]
        w = np.exp(-d[near] ** 2 / temperature)
        q = np.array([w[labels[near] == j].sum() for j in range(n_classes)]) / w.sum()
        top = int(np.argmax(q))
        rest = q.copy()
        rest[top] = -1
        alt = int(np.argmax(rest)) if top == pred else top
        out[i] = q[alt] / (q[pred] + 1e-15)
    return out


def nns_plain(ats, probs, k=10, alpha=0.5) -> np.ndarray:
    """NNS (Bao et al. 2023) per input with uniform weights and DeepGini: the ``k`` nearest
    other inputs, ``p~ = alpha p + (1 - alpha) mean(p of neighbours)``, ``1 - sum p~^2``."""
    x = np.asarray(ats, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        d = np.linalg.norm(x - x[i], axis=1)
        d[i] = np.inf
        near = np.argsort(d, kind="stable")[:k]
        smooth = alpha * p[i] + (1 - alpha) * p[near].mean(axis=0)
        out[i] = 1.0 - np.sum(smooth ** 2)
    return out


def mcp_plain_select(probs, budget: int) -> list[int]:
    """MCP's selection of ``budget`` inputs, one round at a time (Shen et al. 2020): areas by
    (top-1, top-2) class, each full round takes every area's highest ``p2/p1``; a last partial
    round takes the areas whose best is highest (one input per area)."""
    p = np.asarray(probs, dtype=np.float64)
    areas: dict = {}
    for i, row in enumerate(p):
        first = int(np.argmax(row))
        rest = row.copy()
        rest[first] = -np.inf
        second = int(np.argmax(rest))
        areas.setdefault((first, second), []).append([row[second] / row[first], i])
    selected, left = [], budget
    while left > 0 and any(areas.values()):
        bests = []
        for key in sorted(areas):
            if areas[key]:
                best = max(areas[key], key=lambda e: (e[0], -e[1]))
                bests.append((best[0], key, best))
        if len(bests) > left:
            bests = sorted(bests, key=lambda b: (-b[0], b[1]))[:left]
        for _, key, best in bests:
            selected.append(best[1])
            areas[key].remove(best)
        left -= len(bests)
    return selected


def mlsa_plain(train_ats, train_pred, target_ats, target_pred, n_components=2, seed=0) -> np.ndarray:
    """MLSA per target: ``-log sum_m pi_m N(x; mu_m, Sigma_m)`` with the mixture of x's class
    (scikit-learn's fit, same seed) evaluated by ``scipy.stats.multivariate_normal``."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    from .mlsa import fit_mixture

    train = np.asarray(train_ats, dtype=np.float64)
    mixtures = {c: fit_mixture(train[np.asarray(train_pred) == c], n_components, seed, 1e-6, 100)
                for c in np.unique(target_pred)}
    out = np.empty(len(target_ats))
    for i, (x, c) in enumerate(zip(np.asarray(target_ats, dtype=np.float64), target_pred)):
        gm = mixtures[c]
        logs = [np.log(w) + multivariate_normal(m, s).logpdf(x) for w, m, s in
                zip(gm.weights_, gm.means_, gm.covariances_)]
        out[i] = -logsumexp(logs)
    return out


def mdsa_weiss_tonella_plain(train_ats, train_pred, target_ats, target_pred) -> np.ndarray:
    """Per-class MDSA as Weiss & Tonella 2022: ``EmpiricalCovariance().fit(class).mahalanobis(x)``."""
    from sklearn.covariance import EmpiricalCovariance

    train = np.asarray(train_ats, dtype=np.float64)
    out = np.empty(len(target_ats))
    for i, (x, c) in enumerate(zip(np.asarray(target_ats, dtype=np.float64), target_pred)):
        out[i] = EmpiricalCovariance().fit(train[np.asarray(train_pred) == c]).mahalanobis(x[None])[0]
    return out
