"""A user's arrays: ``loader: arrays`` with ``root`` an ``.npz`` holding x_train, y_train, x_test, y_test.

Images: uint8 (0..255, scaled by 1/255) or float (already in [0, 1]); shaped (N, H, W) (one
channel), (N, C, H, W) or (N, H, W, C) with C 1 or 3 (channels last is recognised by C
in the last axis and not in the second). Labels: N integers in 0..K-1; the class count K
is the largest label + 1. Read with ``allow_pickle=False``; the checks before any job read
only the array headers and the labels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..io import load_npz, npz_headers
from .base import Loader, RawDataset

NAME = "arrays"
KEYS = ("x_train", "y_train", "x_test", "y_test")


def _path(root) -> Path:
    if root is None or str(root) == "":
        raise DataError(f"{NAME}: no .npz file configured; set root to a file with {', '.join(KEYS)}")
    path = Path(os.path.abspath(os.path.expanduser(str(root))))
    if not path.is_file():
        raise DataError(f"{NAME}: {path}: file not found (expected an .npz with {', '.join(KEYS)})")
    return path


def _layout(shape: tuple[int, ...], what: str) -> str:
    """``"NHW"``, ``"NCHW"`` or ``"NHWC"``; one-line DataError otherwise."""
    if len(shape) == 3:
        return "NHW"
    if len(shape) == 4 and shape[1] in (1, 3):
        return "NCHW"
    if len(shape) == 4 and shape[3] in (1, 3):
        return "NHWC"
    raise DataError(f"{what}: shape {shape}; expected (N, H, W), (N, C, H, W) or (N, H, W, C) with C 1 or 3")


def _chw(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    if layout == "NHW":
        return (1,) + shape[1:]
    return shape[1:] if layout == "NCHW" else (shape[3],) + shape[1:3]


def _check(path: Path) -> tuple[tuple[int, int, int], int, int]:
    """Shapes, dtypes and labels; returns ``((C, H, W), classes, images)``."""
    headers = npz_headers(path, KEYS)
    chw, n_classes, total = None, 0, 0
    labels = load_npz(path, ["y_train", "y_test"], only=True)  # the images are not read here
    for part in ("train", "test"):
        (xs, xd), (ys, yd) = headers[f"x_{part}"], headers[f"y_{part}"]
        what = f"{NAME}: {path}: x_{part}"
        if xd != np.uint8 and xd.kind != "f":
            raise DataError(f"{what}: dtype {xd}; expected uint8 (0..255) or float (0..1)")
        here = _chw(xs, _layout(xs, what))
        if chw is not None and here != chw:
            raise DataError(f"{NAME}: {path}: train images are {chw} (C, H, W) but test images {here}")
        chw = here
        y = labels[f"y_{part}"]
        if ys != (xs[0],) or yd.kind not in "iu":
            raise DataError(f"{NAME}: {path}: y_{part}: expected {xs[0]} integer labels, found {yd} of shape {ys}")
        if len(y) and y.min() < 0:
            raise DataError(f"{NAME}: {path}: y_{part}: negative label {int(y.min())}")
        n_classes = max(n_classes, int(y.max(initial=-1)) + 1)
        total += xs[0]
    if headers["x_train"][0][0] == 0:
        raise DataError(f"{NAME}: {path}: x_train holds no image")
    found = np.unique(np.concatenate([labels["y_train"], labels["y_test"]]))
    if len(found) < 2:
        raise DataError(f"{NAME}: {path}: a classifier needs at least two classes, found {len(found)} label value"
                        f" ({', '.join(map(str, found))}) in y_train and y_test")
    return chw, n_classes, total


def check_arrays(root) -> None:
    """One-line DataError unless ``root`` is an .npz with well-shaped images and integer labels."""
    _check(_path(root))


def signature(root, **_options) -> tuple[tuple[int, int, int], int, int]:
    """``((C, H, W), classes, images)`` from the headers and labels."""
    return _check(_path(root))


def _to_nchw_float(x: np.ndarray, what: str) -> np.ndarray:
    layout = _layout(x.shape, what)
    x = x[:, None] if layout == "NHW" else x.transpose(0, 3, 1, 2) if layout == "NHWC" else x
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x, dtype=np.float32) / np.float32(255.0)
    return np.ascontiguousarray(x, dtype=np.float32)  # range, NaN: checked by RawDataset


def load_arrays(root, download: bool = False) -> RawDataset:
    """Load and check the .npz at ``root`` (see the module docstring)."""
    if download:
        raise DataError(f"{NAME}: download is not supported: the arrays are the user's own file")
    path = _path(root)
    _, n_classes, _ = _check(path)
    arrays = load_npz(path, KEYS)
    parts = []
    for part in ("train", "test"):
        parts += [_to_nchw_float(arrays[f"x_{part}"], f"{NAME}: {path}: x_{part}"),
                  arrays[f"y_{part}"].astype(np.int64)]
    return RawDataset(f"{NAME} {path}", *parts, n_classes)


LOADER = Loader(NAME, "your own arrays in an .npz", load_arrays, check_arrays, signature=signature)
