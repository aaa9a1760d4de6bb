"""Mahalanobis-distance surprise adequacy (MDSA).

Kim, Ju, Feldt, Yoo 2020, "Reducing DNN labelling cost by surprise adequacy: an
industrial case study for autonomous driving": ``MDSA(x) = sqrt((x - mu_c)^T S_c^+ (x - mu_c))``
with ``mu_c`` and ``S_c`` the mean and covariance (ddof=1) of the reference traces whose
predicted class ``c`` is x's predicted class, and ``S_c^+`` the Moore-Penrose pseudo-inverse
(so a singular covariance measures the distance within the traces' span).

``variant="weiss_tonella"``: per-class MDSA as Weiss & Tonella configure it (ISSTA 2022,
"Simple techniques work surprisingly well...", dnn-tip's ``MDSA`` per predicted class):
scikit-learn's ``EmpiricalCovariance().fit(class traces).mahalanobis(x)``, i.e. the SQUARED
distance ``(x - mu_c)^T S_c^+ (x - mu_c)`` with the maximum-likelihood covariance (ddof=0)
and ``S_c^+`` its pseudo-inverse (``scipy.linalg.pinvh``). It differs from Kim et al.'s
(the default, ``"kim"``) in ddof (0 against 1, which rescales each class by
``n_c / (n_c - 1)`` and so changes the order across classes) and in the square (which
does not change the order).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import as_surprise_inputs


VARIANTS = ("kim", "weiss_tonella")


def mdsa(train_ats, train_pred, target_ats, target_pred, *, variant: str = "kim", return_info: bool = False):
    """MDSA of each target (float64). A class with fewer than 2 reference traces uses the
    covariance of all traces; a class with none uses the mean and covariance of all traces."""
    if variant not in VARIANTS:
        raise DataError(f"variant: {variant!r} is not one of {', '.join(VARIANTS)}")
    ddof = 1 if variant == "kim" else 0
    train, tr_pred, target, tg_pred, _ = as_surprise_inputs(train_ats, train_pred, target_ats, target_pred)
    if train.shape[0] == 0:
        raise DataError("train_ats: the reference set is empty")
    d = train.shape[1]
    pooled_cov = np.atleast_2d(np.cov(train, rowvar=False, ddof=ddof)) if train.shape[0] >= 2 else np.zeros((d, d))
    out = np.empty(target.shape[0])
    fallbacks = []
    for c in np.unique(tg_pred):
        sel = np.nonzero(tg_pred == c)[0]
        ref = train[tr_pred == c]
        if ref.shape[0] == 0:
            fallbacks.append(f"class {int(c)}: no reference trace, using all traces")
            ref = train
        mean = ref.mean(axis=0)
        if ref.shape[0] >= 2:
            cov = np.atleast_2d(np.cov(ref, rowvar=False, ddof=ddof))
        else:
            fallbacks.append(f"class {int(c)}: 1 reference trace, using the covariance of all traces")
            cov = pooled_cov
        if variant == "kim":
            prec = np.linalg.pinv(cov, hermitian=True)
        else:
            from scipy.linalg import pinvh

            prec = pinvh(cov)
        diff = target[sel] - mean
        m = np.einsum("ij,ij->i", diff @ prec, diff)
        out[sel] = np.sqrt(np.maximum(m, 0.0)) if variant == "kim" else m
    if return_info:
        return out, {"metric": "mdsa", "variant": variant, "fallbacks": fallbacks}
    return out
