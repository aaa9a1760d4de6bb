"""Reading the workflow's intermediate data files with every check a later step relies on.

``data.npz`` (rule prepare) holds ``x_train, y_train, x_val, y_val, x_test, y_test``;
``adversarial.npz`` (rule attack) holds Adv.Train, Adv.Val and Adv.Test; ``orders/{metric}.npz``
(rule order) a permutation of Train*. A file cut short, arrays of
the wrong shape, NaN or out-of-range pixels or labels stop the reading job with one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..io import load_npz
from .base import check_images

PARTS = ("train", "val", "test")


@dataclass
class Prepared:
    arrays: dict[str, np.ndarray]
    n_classes: int

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.arrays["x_train"].shape[1:])


def _check_pair(path, x: np.ndarray, y: np.ndarray, what: str) -> None:
    check_images(x, f"{path}: {what} images")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{path}: {what} labels: expected {len(x)} integers, found {y.dtype} array of shape {y.shape}")
    if len(y) and y.min() < 0:
        raise DataError(f"{path}: {what} labels: negative label {int(y.min())}")


def load_prepared(path) -> Prepared:
    """Load and check ``data.npz``; the class count is inferred from the labels."""
    arrays = load_npz(path, [f"{xy}_{part}" for part in PARTS for xy in ("x", "y")])
    for part in PARTS:
        _check_pair(path, arrays[f"x_{part}"], arrays[f"y_{part}"], part)
    shapes = {arrays[f"x_{part}"].shape[1:] for part in PARTS if len(arrays[f"x_{part}"])}
    if len(shapes) > 1:
        raise DataError(f"{path}: train, validation and test images differ in shape: {sorted(shapes)}")
    n_classes = int(max(arrays[f"y_{part}"].max(initial=0) for part in PARTS) + 1)
    return Prepared(arrays, n_classes)


def load_adversarial(path, data: Prepared) -> dict[str, np.ndarray]:
    """Load and check ``adversarial.npz`` against the prepared data it was made from."""
    adv = load_npz(path, ["x_adv_train", "y_adv_train", "idx_adv_train", "x_adv_val", "y_adv_val", "x_adv_test",
                          "y_adv_test"])
    _check_pair(path, adv["x_adv_train"], adv["y_adv_train"], "Adv.Train")
    _check_pair(path, adv["x_adv_val"], adv["y_adv_val"], "Adv.Val")
    _check_pair(path, adv["x_adv_test"], adv["y_adv_test"], "Adv.Test")
    if adv["x_adv_train"].shape[1:] != data.shape or adv["x_adv_test"].shape[1:] != data.shape:
        raise DataError(f"{path}: adversarial images of shape {adv['x_adv_train'].shape[1:]}, data has {data.shape}")
    idx = adv["idx_adv_train"]
    # -1: an input with no clean source in Train (a natural shift's)
    if len(idx) != len(adv["x_adv_train"]) or (len(idx) and (idx.min() < -1 or idx.max() >= len(data["x_train"]))):
        raise DataError(f"{path}: idx_adv_train does not index the {len(data['x_train'])} training inputs (or -1)")
    if len(adv["x_adv_val"]) != len(data["x_val"]):
        raise DataError(f"{path}: {len(adv['x_adv_val'])} Adv.Val inputs for {len(data['x_val'])} validation inputs")
    if len(adv["x_adv_test"]) != len(data["x_test"]):
        raise DataError(f"{path}: {len(adv['x_adv_test'])} Adv.Test inputs for {len(data['x_test'])} test inputs")
    return adv


def train_star(data: Prepared, adv: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Train* = Train followed by Adv.Train: ``(x, y)``."""
    return (np.concatenate([data["x_train"], adv["x_adv_train"]]),
            np.concatenate([data["y_train"], adv["y_adv_train"]]))


def load_order(path, data: Prepared, adv: dict[str, np.ndarray]) -> np.ndarray:
    """Load a metric's order (rule order) and check it is a permutation of Train*'s indices."""
    order = load_npz(path, ["order"])["order"]
    n = len(data["x_train"]) + len(adv["x_adv_train"])
    if len(order) != n or not np.array_equal(np.sort(order), np.arange(n)):
        raise DataError(f"{path}: order of {len(order)} inputs is not a permutation of the {n} inputs of Train*")
    return order
