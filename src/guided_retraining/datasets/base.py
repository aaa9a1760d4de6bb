"""Common shape of a loaded dataset and the checks every loader's output passes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class Size:
    """A built-in dataset's image counts (its official train and test parts; ``test`` 0 when it
    has none) and the (channels, height, width) its loader gives by default: read by the config
    check (``adv_train_size`` against Train) and by the cluster resource estimates."""

    train: int
    test: int
    shape: tuple[int, int, int]

    def loaded_shape(self, options: dict | None = None) -> tuple[int, int, int]:
        """Shape after the loader's ``size`` and ``grayscale`` options."""
        options = options or {}
        channels = self.shape[0] if options.get("grayscale", True) else 3
        size = options.get("size")
        if isinstance(size, int) and not isinstance(size, bool):
            return channels, size, size
        if isinstance(size, (list, tuple)) and len(size) == 2:
            return channels, int(size[0]), int(size[1])
        return channels, self.shape[1], self.shape[2]


@dataclass
class RawDataset:
    """Images as float32 NCHW in [0, 1] and int64 labels.

    ``x_test``/``y_test`` are the dataset's own test split, or ``None`` when it has none
    (then only the merged split applies).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    n_classes: int
    classes: list[str] | None = None  # class names by label, where the data names them (image folders)

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x is None:
                continue
            check_images(x, f"{self.name} {part} images")
            if y.shape != (len(x),):
                raise DataError(f"{self.name}: {len(x)} {part} images but labels of shape {y.shape}")
            if len(y) and (y.min() < 0 or y.max() >= self.n_classes):
                raise DataError(f"{self.name}: {part} labels outside 0..{self.n_classes - 1}")


def check_images(x: np.ndarray, what: str) -> None:
    """Images must be float32 NCHW, finite and in [0, 1]."""
    if x.ndim != 4:
        raise DataError(f"{what}: expected a 4-D array (N, C, H, W), found shape {x.shape}")
    if x.dtype != np.float32:
        raise DataError(f"{what}: expected float32 pixels, found {x.dtype}")
    if not np.isfinite(x).all():
        raise DataError(f"{what}: {int((~np.isfinite(x)).sum())} pixels are NaN or infinite")
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise DataError(f"{what}: pixels must lie in [0, 1], found range [{x.min():.4g}, {x.max():.4g}]")
