"""Multimodal likelihood-based surprise adequacy (MLSA).

Kim, Ju, Feldt, Yoo 2020, "Reducing DNN labelling cost by surprise adequacy: an industrial
case study for autonomous driving", as implemented per predicted class by Weiss & Tonella
(ISSTA 2022, dnn-tip's ``MLSA`` inside ``MultiModalSA.build_by_class``): for each
predicted class ``c`` a Gaussian mixture (scikit-learn's ``GaussianMixture``, full
covariances, ``n_components`` components) is fitted to the reference traces of class
``c``, and

    MLSA(x) = -log sum_m pi_m N(x; mu_m, Sigma_m)      (mixture of x's predicted class)

i.e. ``-GaussianMixture.score_samples(x)``. The fit is seeded (``random_state=seed``),
so scores are reproducible. Speed only (values unchanged): classes are fitted two at a
time in threads, each with single-threaded BLAS (``threadpoolctl``; EM on 128 x 128
covariances is many small operations, which multi-threaded OpenBLAS slows down about
tenfold on a busy machine). Fallbacks (in the info): a class with fewer reference traces
than components uses as many components as traces; a target whose predicted class has no
reference trace is scored under a mixture of all reference traces.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import as_surprise_inputs


def fit_mixture(ats: np.ndarray, n_components: int, seed: int, reg_covar: float, max_iter: int):
    """A seeded full-covariance ``GaussianMixture`` fitted to ``ats``."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(n_components=min(int(n_components), ats.shape[0]), covariance_type="full",
                         reg_covar=float(reg_covar), max_iter=int(max_iter), random_state=int(seed))
    return gm.fit(ats)


def mlsa(train_ats, train_pred, target_ats, target_pred, *, n_components: int = 2, seed: int = 0,
         reg_covar: float = 1e-6, max_iter: int = 100, return_info: bool = False):
    """MLSA of each target (float64): minus the log density of its predicted class's mixture."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    train, tr_pred, target, tg_pred, _ = as_surprise_inputs(train_ats, train_pred, target_ats, target_pred)
    if train.shape[0] == 0:
        raise DataError("train_ats: the reference set is empty")
    out = np.empty(target.shape[0])
    fallbacks, components = [], {}
    for c in np.unique(tg_pred):
        n_c = int(np.sum(tr_pred == c))
        if n_c == 0:
            fallbacks.append(f"class {int(c)}: no reference trace, using a mixture of all traces")
        elif n_c < n_components:
            fallbacks.append(f"class {int(c)}: {n_c} reference traces, fewer components")

    def one_class(c):
        sel = np.nonzero(tg_pred == c)[0]
        ref = train[tr_pred == c]
        gm = fit_mixture(ref if ref.shape[0] else train, n_components, seed, reg_covar, max_iter)
        out[sel] = -gm.score_samples(target[sel])
        return str(int(c)), {"n_components": int(gm.n_components), "converged": bool(gm.converged_),
                             "n_iter": int(gm.n_iter_)}

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=2) as pool:
        components = dict(pool.map(one_class, np.unique(tg_pred)))
    if return_info:
        return out, {"metric": "mlsa", "mixtures": components, "fallbacks": fallbacks, "seed": int(seed)}
    return out
