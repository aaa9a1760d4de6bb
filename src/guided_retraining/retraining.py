"""The study's retraining configurations and data points (the study grid of Durán et al., "Guiding the retraining of
convolutional neural networks against adversarial inputs").

- C1: new random weights, trained on a prefix of Train* = Train + Adv.Train ordered by the metric.
- C2: the original model's weights, trained on a prefix of Train* ordered by the metric.
- C3: the original model's weights, trained on a prefix of Adv.Train ordered by the metric.

Data point k of n uses the first ``round(k * T / n)`` inputs of the ordered set of size T,
or ``min(k * step, T)`` with a fixed ``step`` as the study's per-dataset steps (MNIST: 2,800
for C1/C2, 340 for C3); the last point is always the whole set. Every point starts from its
own initial weights.

Budget points (``aggregate.budgets``, the project's fixed-budget endpoints): ``f<x>`` uses the
first ``max(1, round(x * T))`` inputs (x a fraction of T in (0, 1]; C3's T is Adv.Train), ``n<c>``
the first ``c`` (c <= T), so every metric of a configuration trains on the same number of inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def is_regular(point) -> bool:
    """A data point of the study's curve (``p<k>``), not C2's point at C3's count nor a budget point."""
    point = str(point)
    return point.startswith("p") and point[1:].isdigit()


def is_budget(point) -> bool:
    """A fixed-budget point (``aggregate.budgets``: ``f<fraction>`` or ``n<count>``)."""
    point = str(point)
    return len(point) > 1 and point[0] in "fn" and point[1:].replace(".", "", 1).isdigit()


def budget_point(budget) -> str:
    """The point wildcard of one ``aggregate.budgets`` entry: ``f<x>`` for a fraction ``x`` of T (a float
    in (0, 1]), ``n<c>`` for a count ``c`` of inputs (an integer >= 1)."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)):
        raise ValueError(f"a budget is a fraction in (0, 1] or a whole number of inputs, got {budget!r}")
    if isinstance(budget, (int, np.integer)):
        if budget < 1:
            raise ValueError(f"a budget count must be at least 1, got {budget}")
        return f"n{int(budget)}"
    if not 0 < budget <= 1:
        raise ValueError(f"a budget fraction must be in (0, 1] (counts are whole numbers), got {budget!r}")
    return "f" + np.format_float_positional(float(budget), trim="-")


def parse_budget(point: str) -> tuple[str, float | int]:
    """``("fraction", x)`` for ``f<x>``, ``("count", c)`` for ``n<c>`` (see :func:`budget_point`)."""
    if point.startswith("f"):
        return "fraction", float(point[1:])
    if point.startswith("n") and point[1:].isdigit():
        return "count", int(point[1:])
    raise ValueError(f"not a budget point: {point!r}")


def budget_size(point: str, total: int) -> int:
    """Inputs used at budget point ``point`` over ``total`` available: ``max(1, floor(x * T + 1/2))`` for a
    fraction, the count itself for a count (a count above ``total``: a one-line ConfigError naming the key)."""
    kind, value = parse_budget(point)
    if kind == "fraction":
        return int(max(1, np.floor(value * total + 0.5)))
    if value > total:
        from .errors import ConfigError

        raise ConfigError(f"aggregate.budgets: a budget of {value} inputs exceeds the {total} inputs available"
                          " (fewer than the config check could know, e.g. keep_successful kept only the fooled"
                          " Adv.Train inputs); give a smaller count or a fraction")
    return int(value)


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


@dataclass(frozen=True)
class RetrainJob:
    """Which model one retraining builds: the data point ``point`` of ``configuration`` for the order of one
    metric on ``dataset`` under ``attack``; ``n_points`` and ``step`` (the config's ``retrain.data_points``
    and the dataset's ``steps`` for the configuration; None for a budget point, whose size is its own name)
    size a regular point; ``seed`` is the repetition's seed, from which the job's seeds derive."""

    dataset: str
    attack: str
    configuration: str
    point: str
    n_points: int | None
    step: int | None
    seed: int

    def seeds(self) -> dict[str, int]:
        """The seeds of the initial weights and of the batch order: the job's identity, not its metric."""
        from .seeding import derive_seed

        return {name: derive_seed(self.seed, self.dataset, self.attack, self.configuration, self.point, name)
                for name in ("init", "train")}


def retrain(data, adv: dict, order: np.ndarray, job: RetrainJob, settings, *, original_weights, arch,
            device: str = "cpu", log=None):
    """Retrain one data point: returns ``(model, used, total, seeds)``.

    ``data`` is the prepared data (:func:`guided_retraining.datasets.prepared.load_prepared`), ``adv``
    the attack's arrays, ``order`` the metric's permutation of Train* = Train + Adv.Train
    (checked by :func:`guided_retraining.datasets.prepared.load_order`), ``settings`` the
    :class:`~guided_retraining.training.TrainSettings` of retraining. ``job.point``
    is ``p<k>``, ``atc3`` (C2 at C3's total input count, for Table 4) or a budget point
    (:func:`budget_point`).

    A paired design: initial weights (C1) and batch order derive from ``seed`` and the job's
    identity, not from the metric, and the selected inputs are sorted by index before the seeded
    shuffling of the mini-batches, so every metric of one point starts from the same weights and
    two metrics that select the same set of inputs train on the same sequence of mini-batches
    (at the last point, all of the pool, every metric gives the same model).
    """
    from .datasets.prepared import train_star
    from .io import load_state_dict
    from .models import build_model
    from .training import FitContext, fit

    x_star, y_star = train_star(data, adv)
    candidates = pool(order, len(data["x_train"]), job.configuration)
    if job.point == "atc3":
        size = len(adv["x_adv_train"])
    elif job.point.startswith("p"):
        size = point_size(int(job.point[1:]), job.n_points, len(candidates), job.step)
    else:
        size = budget_size(job.point, len(candidates))
    used = candidates[:size]
    seeds = job.seeds()
    model = build_model(arch, data.shape, data.n_classes, seed=seeds["init"], init=settings.init)
    if CONFIGURATIONS[job.configuration]["from_original"]:
        load_state_dict(original_weights, model)
    chosen = np.sort(used)  # the batches depend on the set of inputs, not on the metric's order of it
    # early stopping (patience) watches the validation split (fit stops the run when the split has none)
    validation = (data["x_val"], data["y_val"]) if settings.patience is not None else None
    fit(model, x_star[chosen], y_star[chosen], settings, seeds["train"],
        FitContext(device, log, f"retrain {job.configuration} {job.point}"), validation=validation)
    return model, used, len(candidates), seeds
