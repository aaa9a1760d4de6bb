"""Common shape of a loaded dataset, the checks every loader's output passes, and the ``Loader``
declaration each loader module makes of itself."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

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
    colour: bool = False  # colour images (``grayscale: false`` keeps their three channels)

    def loaded_shape(self, options: dict | None = None) -> tuple[int, int, int]:
        """Shape after the loader's ``size`` and ``grayscale`` options."""
        options = options or {}
        channels = 3 if self.colour and not options.get("grayscale", True) else self.shape[0]
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


#: What a data-sized loader's ``signature`` returns: ``((C, H, W), classes, images)``.
Signature = tuple[tuple[int, int, int], int, int]


@dataclass(frozen=True)
class Loader:
    """A dataset loader, declared once in its own module (``LOADER = Loader(...)``).

    Everything else derives from the declarations: :data:`guided_retraining.datasets.LOADERS`, the
    schema's loader enum (tests/test_registries.py), the options the config accepts (the reader's
    keyword arguments), the data check before any job, the image shape, class count and split sizes
    the config checks read, and whether DeepCustom's generator networks (``dgn`` attacks) may run on it.

    - ``read(root, download=False, **options)``: the images as a :class:`RawDataset`.
    - ``check(root)``: a one-line DataError unless the files ``read`` needs are there; cheap (no image read).
    - ``size`` and ``n_classes``: a built-in dataset's image counts, default shape and classes; or, for a
      user's own data (both ``None``), ``signature(root, **options)`` reads ``((C, H, W), classes, images)``
      from its files (listings and headers), and the config check names ``root`` in its errors.
    - ``dgn``: DeepCustom's generator networks were built for this dataset (they apply when the loaded
      image shape is one they take, :data:`guided_retraining.deepcustom.generators.GENERATORS`).
    - ``downloads``: ``read(root, download=True)`` fetches the files that are absent (torchvision's mirrors).
    """

    name: str
    summary: str
    read: Callable[..., RawDataset]
    check: Callable[[Any], None]
    size: Size | None = None
    n_classes: int | None = None
    signature: Callable[..., Signature] | None = None
    dgn: bool = False
    downloads: bool = False

    def __post_init__(self) -> None:
        if (self.size is None) != (self.n_classes is None) or (self.size is None) == (self.signature is None):
            raise ValueError(f"loader {self.name!r}: declare size and n_classes (a built-in dataset) or signature "
                             "(a user's own data), not both")

    @property
    def options(self) -> tuple[str, ...]:
        """The options it takes: the reader's keyword arguments (``root`` and ``download`` are keys of their own)."""
        return tuple(p for p in inspect.signature(self.read).parameters if p not in ("root", "download"))

    @property
    def own_data(self) -> bool:
        """A user's own files at ``root`` (sizes and classes read from them), not a built-in dataset."""
        return self.size is None

    def shape_classes_images(self, root=None, options: dict | None = None) -> Signature:
        """``((C, H, W), classes, images)`` once loaded with ``options``, read cheaply: a built-in dataset's
        from its declared size with the ``size`` and ``grayscale`` options; a user's data from its files."""
        options = dict(options or {})
        if self.size is None:
            return self.signature(root, **options)
        return self.size.loaded_shape(options), self.n_classes, self.size.train + self.size.test
