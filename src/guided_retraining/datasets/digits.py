"""scikit-learn's digits: 1,797 8x8 grayscale images of 10 digits, shipped inside scikit-learn."""

from __future__ import annotations

import numpy as np

from .base import Loader, RawDataset, Size

SIZE = Size(train=1_797, test=0, shape=(1, 8, 8))  # embedded in scikit-learn; no test split of its own


def load_digits(root=None, download: bool = False) -> RawDataset:
    """Load the embedded digits dataset (``root`` and ``download`` are ignored: it ships with scikit-learn)."""
    from sklearn.datasets import load_digits as _load

    bunch = _load()
    x = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    return RawDataset("digits", x, y, None, None, 10)


def check_digits(root=None) -> None:
    """Nothing to check: the images ship with scikit-learn."""


LOADER = Loader("digits", "scikit-learn's 8x8 digits (embedded, no download)", load_digits, check_digits, SIZE, 10)
