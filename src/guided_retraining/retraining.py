"""The study's retraining configurations and data points (the study grid of Durán et al., "Guiding the retraining of
convolutional neural networks against adversarial inputs").

- C1: new random weights, trained on a prefix of Train* = Train + Adv.Train ordered by the metric.
- C2: the original model's weights, trained on a prefix of Train* ordered by the metric.
- C3: the original model's weights, trained on a prefix of Adv.Train ordered by the metric.

Data point k of n uses the first ``round(k * T / n)`` inputs of the ordered set of size T,
or ``min(k * step, T)`` with a fixed ``step`` as the study's per-dataset steps (MNIST: 2,800
for C1/C2, 340 for C3); the last point is always the whole set. Every point starts from its
own initial weights.
"""

from __future__ import annotations

import numpy as np

CONFIGURATIONS = {
    "C1": {"from_original": False, "adversarial_only": False},
    "C2": {"from_original": True, "adversarial_only": False},
    "C3": {"from_original": True, "adversarial_only": True},
}


def point_size(k: int, n_points: int, total: int, step: int | None = None) -> int:
    """Inputs used at data point ``k`` (1-based) of ``n_points`` over ``total`` available inputs."""
    if not 1 <= k <= n_points:
        raise ValueError(f"data point {k} outside 1..{n_points}")
    if k == n_points:
        return int(total)
    if step:
        return int(min(k * step, total))
    return int(np.floor(k * total / n_points + 0.5))


def pool(order: np.ndarray, n_train: int, configuration: str) -> np.ndarray:
    """Indices into Train* that ``configuration`` may use, in metric order.

    ``order`` is the metric's permutation of Train* (train inputs are 0..n_train-1,
    adversarial inputs follow); C3 keeps only the adversarial ones, in the same order.
    """
    if CONFIGURATIONS[configuration]["adversarial_only"]:
        return order[order >= n_train]
    return order


def selection(order: np.ndarray, n_train: int, configuration: str, k: int, n_points: int,
              step: int | None = None) -> np.ndarray:
    """Indices into Train* of the inputs used at data point ``k``."""
    candidates = pool(order, n_train, configuration)
    return candidates[: point_size(k, n_points, len(candidates), step)]


def order_by_scores(scores: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """Descending score, ties broken by a seeded random permutation: ``(order, n_tied)``.

    ``n_tied`` counts the inputs whose score equals another input's. Breaking ties by position
    would put every clean input (Train comes first in Train*) before every adversarial one of the
    same score; a permutation drawn from ``np.random.default_rng(seed)`` puts tied inputs in a
    random but reproducible order.
    """
    values = np.asarray(scores, dtype=np.float64)
    perm = np.random.default_rng(int(seed)).permutation(len(values))
    order = perm[np.argsort(-values[perm], kind="stable")].astype(np.int64)
    _, counts = np.unique(values, return_counts=True)
    return order, int(counts[counts > 1].sum())


def retrain(data, adv: dict, order: np.ndarray, *, original_weights, arch, configuration: str, point: str,
            n_points: int, step: int | None, train_settings: dict, seed: int, dataset: str, attack: str,
            device: str = "cpu", log=None):
    """Retrain one data point: returns ``(model, used, total, seeds)``.

    ``data`` is the prepared data (:func:`guided_retraining.datasets.prepared.load_prepared`), ``adv``
    the attack's arrays, ``order`` the metric's permutation of Train* = Train + Adv.Train
    (checked by :func:`guided_retraining.datasets.prepared.load_order`). ``point``
    is ``p<k>`` or ``atc3`` (C2 at C3's total input count, for Table 4).

    A paired design: initial weights (C1) and batch order derive from ``seed`` and the job's
    identity, not from the metric, and the selected inputs are sorted by index before the seeded
    shuffling of the mini-batches, so every metric of one point starts from the same weights and
    two metrics that select the same set of inputs train on the same sequence of mini-batches
    (at the last point, all of the pool, every metric gives the same model).
    """
    from .datasets.prepared import train_star
    from .io import load_state_dict
    from .models import build_model
    from .seeding import derive_seed
    from .training import TrainSettings, fit

    x_star, y_star = train_star(data, adv)
    candidates = pool(order, len(data["x_train"]), configuration)
    size = len(adv["x_adv_train"]) if point == "atc3" else point_size(int(point[1:]), n_points, len(candidates), step)
    used = candidates[:size]
    seeds = {name: derive_seed(seed, dataset, attack, configuration, point, name) for name in ("init", "train")}
    settings = TrainSettings.from_config(train_settings)
    model = build_model(arch, data.shape, data.n_classes, seed=seeds["init"], init=settings.init)
    if CONFIGURATIONS[configuration]["from_original"]:
        load_state_dict(original_weights, model)
    chosen = np.sort(used)  # the batches depend on the set of inputs, not on the metric's order of it
    # early stopping (patience) watches the validation split (fit stops the run when the split has none)
    validation = (data["x_val"], data["y_val"]) if settings.patience is not None else None
    fit(model, x_star[chosen], y_star[chosen], settings, seeds["train"], device, log,
        f"retrain {configuration} {point}", validation=validation)
    return model, used, len(candidates), seeds
