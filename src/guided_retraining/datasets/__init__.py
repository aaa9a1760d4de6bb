"""Dataset loaders. Each returns a :class:`RawDataset` (float32 NCHW in [0, 1]).

``LOADERS[name](root, download=False, **options)`` loads dataset ``name`` from its data directory
``root``; ``CHECKS[name](root)`` (or :func:`check_available`) verifies cheaply, without reading any
image, that the files the loader needs are there, raising a one-line :class:`DataError` naming the
directory and the files expected. Nothing is downloaded unless ``download=True``.
"""

from __future__ import annotations

from typing import Callable

from . import arrays as _arrays
from . import cifar10, digits, fashion_mnist, gtsrb, intel, mnist
from . import imagefolder as _imagefolder
from .arrays import check_arrays, load_arrays
from .base import RawDataset, Size, check_images
from .cifar10 import check_cifar10, load_cifar10
from .digits import load_digits
from .fashion_mnist import check_fashion_mnist, load_fashion_mnist
from .gtsrb import check_gtsrb, load_gtsrb
from .imagefolder import check_imagefolder, load_imagefolder
from .intel import check_intel, load_intel
from .mnist import check_mnist, load_mnist
from .split import SPLITS, merged_sizes, split, split_sizes

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

#: Loaders that fetch their data with torchvision when ``download: true`` (intel: Kaggle only; imagefolder and
#: arrays: the user's own data; digits: embedded).
DOWNLOADS = frozenset({"mnist", "fashion_mnist", "cifar10", "gtsrb"})

#: Class counts of the built-in datasets (a user's image folder or arrays count their own).
N_CLASSES = {"digits": 10, "mnist": 10, "fashion_mnist": 10, "cifar10": 10, "gtsrb": 43, "intel": 6}


#: Image counts and default shape of each built-in dataset (declared beside its loader).
SIZES: dict[str, Size] = {name: module.SIZE for name, module in
                          {"digits": digits, "mnist": mnist, "fashion_mnist": fashion_mnist, "cifar10": cifar10,
                           "gtsrb": gtsrb, "intel": intel}.items()}


def prepared_sizes(loader: str, split_config: dict) -> dict[str, int] | None:
    """Train / val / test sizes the prepare step will produce for a built-in ``loader`` with this
    ``split`` config (``None`` for a loader whose size is only known from its data)."""
    if loader not in SIZES:
        return None
    size = SIZES[loader]
    split_config = split_config or {}
    n_train, n_val, n_test = split_sizes(size.train, size.test, split_config.get("mode", "merged"),
                                         split_config.get("fractions", (0.7, 0.2, 0.1)), split_config.get("subset"),
                                         split_config.get("pool", ("train", "test")), split_config.get("sizes"),
                                         name=loader)
    return {"train": n_train, "val": n_val, "test": n_test}


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
    a built-in dataset: from its declared size (``SIZES``) with the ``size`` and ``grayscale`` options.
    """
    _known(name)
    options = dict(options or {})
    if name == "imagefolder":
        return _imagefolder.signature(root, **options)
    if name == "arrays":
        return _arrays.signature(root, **options)
    size = SIZES[name]
    return size.loaded_shape(options), N_CLASSES[name], size.train + size.test


__all__ = ["CHECKS", "DOWNLOADS", "LOADERS", "RawDataset", "SIZES", "SPLITS", "Size", "check_available", "check_images", "load",
           "merged_sizes", "prepared_sizes", "signature", "split", "split_sizes"]
