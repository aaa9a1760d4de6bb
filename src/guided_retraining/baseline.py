"""Did the original model learn? The guard of ``train_original`` against a linear baseline.

Attacking, scoring and retraining a model that learned nothing measures nothing, and a model above
the most frequent class can still have learned almost nothing (a reduced GTSRB run stopped at 12.7%
validation accuracy, most frequent class 5.3%). The yardstick is what a linear classifier learns from
the same training pixels: multinomial logistic regression (scikit-learn's ``LogisticRegression``, L2,
C = 1, lbfgs) fitted on the flattened images of at most ``max_train`` training inputs (a seeded
subsample, so it takes seconds), evaluated on the validation split.

Rule (:func:`required_accuracy`): the original model's validation accuracy must exceed the most frequent
class's share ``m`` and reach ``m + share * (b - m)``, with ``b`` the baseline's validation accuracy and
``share`` = 0.5: the model gains at least half of what the linear classifier gains over predicting the
most frequent class. A CNN is expected to do better than a linear model on images (the study's models:
MNIST .989, GTSRB .993 on Test; logistic regression on pixels: about .92 on MNIST), so the bar stops models
that are clearly undertrained while leaving room for a small, short-trained one on easy data.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

#: The share of the linear baseline's gain over the most frequent class the original model must reach.
SHARE = 0.5
#: Training inputs the baseline is fitted on (a seeded subsample when Train is larger).
MAX_TRAIN = 3000


def majority_share(y_train: np.ndarray, y_eval: np.ndarray) -> float:
    """Accuracy on ``y_eval`` of always predicting the most frequent class of ``y_train``."""
    if len(y_eval) == 0 or len(y_train) == 0:
        return float("nan")
    return float(np.mean(y_eval == np.bincount(y_train).argmax()))


def linear_baseline(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, seed: int,
                    max_train: int = MAX_TRAIN, max_iter: int = 200) -> dict:
    """Validation accuracy of logistic regression on the flattened pixels of (at most ``max_train``) training
    inputs, chosen with ``seed``. Returns ``{"acc_val", "n_train", "max_iter"}`` (acc_val NaN without
    validation inputs or with one class in the training sample)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    n = len(y_train)
    keep = np.sort(np.random.default_rng(seed).permutation(n)[:max_train]) if n > max_train else np.arange(n)
    out = {"n_train": int(len(keep)), "max_iter": max_iter, "acc_val": float("nan")}
    if len(y_val) == 0 or len(np.unique(y_train[keep])) < 2:
        return out
    x = np.asarray(x_train[keep], dtype=np.float64).reshape(len(keep), -1)
    model = LogisticRegression(C=1.0, max_iter=max_iter, random_state=seed)
    # one BLAS thread: on a shared machine threaded BLAS made this 0.1 s fit take 8 s (digits, measured)
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)  # a budget, not a tolerance: max_iter is recorded
        model.fit(x, y_train[keep])
        pred = model.predict(np.asarray(x_val, dtype=np.float64).reshape(len(x_val), -1))
    out["acc_val"] = float(np.mean(pred == y_val))
    return out


def required_accuracy(majority: float, baseline: float, share: float = SHARE) -> float:
    """``majority + share * (baseline - majority)``; just the majority share when the baseline is no better."""
    if np.isnan(baseline):
        return majority
    return majority + share * max(baseline - majority, 0.0)


def check_original_learned(acc_val: float, y_train: np.ndarray, y_val: np.ndarray, baseline: float, dataset: str,
                           allow: bool = False, log: logging.Logger | None = None) -> dict:
    """Stop with a one-line :class:`ModelError` unless the original model's validation accuracy is above the
    most frequent class's and at least :func:`required_accuracy` (module docstring). ``allow``
    (``datasets.<name>.allow_chance_original``) only logs a warning. Returns the figures compared."""
    from .errors import ModelError

    majority = majority_share(y_train, y_val)
    figures = {"majority_class_acc_val": majority, "linear_baseline_acc_val": baseline,
               "required_acc_val": required_accuracy(majority, baseline)}
    if np.isnan(majority):
        return figures
    need = figures["required_acc_val"]
    if not (acc_val > majority and acc_val >= need):
        message = (f"datasets.{dataset}: the original model learned too little: validation accuracy {acc_val:.4f},"
                   f" a linear classifier on the pixels {baseline:.4f}, the most frequent class {majority:.4f}"
                   f" (required: above {majority:.4f} and at least {need:.4f}, half the linear classifier's gain);"
                   f" train longer (train.min_steps, or train.patience with more train.epochs) or set"
                   f" allow_chance_original: true to go on anyway")
        if not allow:
            raise ModelError(message)
        if log is not None:
            log.warning("%s", message)
    return figures
