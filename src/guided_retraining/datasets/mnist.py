"""MNIST: 70,000 28x28 grayscale handwritten digits (60,000 train / 10,000 test), 10 classes.

Reads the four official idx files ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` from
``root/MNIST/raw/`` (torchvision's layout, read with ``torchvision.datasets.MNIST``),
``root/raw/``, or directly from ``root`` (see :mod:`.idx`).
"""

from __future__ import annotations

from .base import Loader, RawDataset, Size
from .idx import check, load_idx_dataset

SIZE = Size(train=60_000, test=10_000, shape=(1, 28, 28))

NAME, TV_CLASS = "mnist", "MNIST"


def load_mnist(root, download: bool = False, size=28, grayscale: bool = True, resample: str = "bilinear") -> RawDataset:
    """Load MNIST from ``root``; ``download=True`` fetches it with torchvision into ``root/MNIST/raw``."""
    return load_idx_dataset(NAME, root, TV_CLASS, 10, download, size, grayscale, resample)


def check_mnist(root) -> None:
    """Raise a one-line DataError unless the four idx files are present (nothing is read)."""
    check(NAME, root, TV_CLASS)


LOADER = Loader(NAME, "MNIST's idx files (torchvision's layout or the four files)", load_mnist, check_mnist, SIZE, 10,
                dgn=True, downloads=True)
