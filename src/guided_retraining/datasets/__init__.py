"""Dataset loaders. Each returns a :class:`RawDataset` (float32 NCHW in [0, 1])."""

from __future__ import annotations

from typing import Callable

from .base import RawDataset, check_images
from .digits import load_digits
from .split import SPLITS, split

LOADERS: dict[str, Callable[..., RawDataset]] = {
    "digits": load_digits,
}


def load(name: str, root=None, **options) -> RawDataset:
    """Load dataset ``name`` from ``root`` (its directory; unused for embedded datasets)."""
    if name not in LOADERS:
        raise KeyError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")
    return LOADERS[name](root, **options)


__all__ = ["LOADERS", "RawDataset", "SPLITS", "check_images", "load", "split"]
