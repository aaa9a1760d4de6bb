"""Dataset loaders. Each returns a :class:`RawDataset` (float32 NCHW in [0, 1]).

``LOADERS[name](root, download=False, **options)`` loads dataset ``name`` from its data directory
``root``; ``CHECKS[name](root)`` (or :func:`check_available`) verifies cheaply, without reading any
image, that the files the loader needs are there, raising a one-line :class:`DataError` naming the
directory and the files expected. Nothing is downloaded unless ``download=True``.
"""

from __future__ import annotations

from typing import Callable

from . import arrays as _arrays
from . import imagefolder as _imagefolder
from .arrays import check_arrays, load_arrays
from .base import RawDataset, check_images
from .cifar10 import check_cifar10, load_cifar10
from .digits import load_digits
from .fashion_mnist import check_fashion_mnist, load_fashion_mnist
from .gtsrb import check_gtsrb, load_gtsrb
from .imagefolder import check_imagefolder, load_imagefolder
from .intel import check_intel, load_intel
from .mnist import check_mnist, load_mnist
from .split import SPLITS, merged_sizes, split

LOADERS: dict[str, Callable[..., RawDataset]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "gtsrb": load_gtsrb,
    "intel": load_intel,
    "imagefolder": load_imagefolder,
    "arrays": load_arrays,
}

CHECKS: dict[str, Callable[..., None]] = {
    "digits": lambda root=None: None,  # embedded: nothing on disk
    "mnist": check_mnist,
    "fashion_mnist": check_fashion_mnist,
    "cifar10": check_cifar10,
    "gtsrb": check_gtsrb,
    "intel": check_intel,
    "imagefolder": check_imagefolder,
    "arrays": check_arrays,
}

#: Class counts of the built-in datasets (a user's image folder or arrays count their own).
N_CLASSES = {"digits": 10, "mnist": 10, "fashion_mnist": 10, "cifar10": 10, "gtsrb": 43, "intel": 6}


def _known(name: str) -> None:
    if name not in LOADERS:
        raise KeyError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")


def load(name: str, root=None, **options) -> RawDataset:
    """Load dataset ``name`` from ``root`` (its directory; unused for embedded datasets)."""
    _known(name)
    return LOADERS[name](root, **options)


def check_available(name: str, root=None) -> None:
    """Raise a one-line DataError unless dataset ``name``'s files are present under ``root``.

    Cheap (no image is read): meant for the workflow's start-up, before any job runs.
    """
    _known(name)
    CHECKS[name](root)


def signature(name: str, root=None, options: dict | None = None) -> tuple[tuple[int, int, int], int, int]:
    """``((C, H, W), classes, images)`` of dataset ``name`` once loaded with ``options``, read cheaply.

    A user's image folder or arrays: from the listing and headers (as the checks before any job);
    a built-in dataset: from its known size, with the ``size`` and ``grayscale`` options applied.
    """
    from ..resources import DATASET_SHAPES

    _known(name)
    options = dict(options or {})
    if name == "imagefolder":
        return _imagefolder.signature(root, **options)
    if name == "arrays":
        return _arrays.signature(root, **options)
    n, c, h, w = DATASET_SHAPES[name]
    if options.get("size") is not None and name != "digits":
        from ._common import parse_size

        h, w = parse_size(name, options["size"])
    if name in ("cifar10", "gtsrb", "intel") and options.get("grayscale", True) is False:
        c = 3
    return (c, h, w), N_CLASSES[name], n


__all__ = ["CHECKS", "LOADERS", "RawDataset", "SPLITS", "check_available", "check_images", "load",
           "merged_sizes", "signature", "split"]
