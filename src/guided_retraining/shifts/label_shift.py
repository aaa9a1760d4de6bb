"""The label shift: Train, Val and Test each resampled to other class priors (``priors``, or drawn from a
Dirichlet with concentration ``alpha``; :func:`.sampling.resample_to_priors`); ``idx_adv_train`` the rows of
Train drawn."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from ..seeding import derive_seed
from .kind import ShiftKind, SideSets
from .sampling import check_priors, dirichlet_priors, resample_to_priors


def check_entry(entry: dict, where: str, shape=None, n_classes: int | None = None, source_signature=None) -> None:
    """``priors`` (one per class, summing to 1) or a Dirichlet ``alpha`` > 0, exactly one of them."""
    if ("priors" in entry) == ("alpha" in entry):
        raise ConfigError(f"{where}: a label shift takes priors (one per class, summing to 1) or a Dirichlet "
                          "alpha, exactly one of them")
    if "priors" in entry:
        check_priors(entry["priors"], n_classes, f"{where}.priors")
    elif isinstance(entry["alpha"], bool) or not isinstance(entry["alpha"], (int, float)) or not entry["alpha"] > 0:
        raise ConfigError(f"{where}.alpha: {entry['alpha']!r} is not allowed; expected a number > 0")


def shift_priors(entry: dict, n_classes: int, seed: int) -> np.ndarray:
    """A label shift's priors: the given ``priors``, or drawn from Dirichlet(``alpha``) with ``seed``."""
    if "priors" in entry:
        return check_priors(entry["priors"], n_classes, "priors")
    return dirichlet_priors(entry["alpha"], n_classes, seed)


def side_sets(entry: dict, data, sizes: dict, subset_seed: int, seed: int, log=None, source=None) -> SideSets:
    """Train, Val and Test each resampled to the priors (``seed``: the priors' draw and the resampling)."""
    parts = ("train", "val", "test")
    rng = np.random.default_rng(seed)
    priors = shift_priors(entry, data.n_classes, derive_seed(seed, "priors"))
    idx = {p: resample_to_priors(data[f"y_{p}"], sizes[p], priors, rng, f"{p} inputs") for p in parts}
    repeats = {p: int(len(idx[p]) - len(np.unique(idx[p]))) for p in parts}
    return SideSets(data["x_train"][idx["train"]], data["y_train"][idx["train"]], idx["train"],
                    data["x_val"][idx["val"]], data["y_val"][idx["val"]], data["x_test"][idx["test"]],
                    data["y_test"][idx["test"]], {"priors": [float(v) for v in priors], "repeated_inputs": repeats})


KIND = ShiftKind("label_shift", "Train, Val and Test resampled to other class priors (given, or Dirichlet-drawn)",
                 ("priors", "alpha"), check_entry, side_sets)
