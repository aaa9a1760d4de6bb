"""Fashion-MNIST: 70,000 28x28 grayscale clothing images (60,000 train / 10,000 test), 10 classes.

Reads the four idx files ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` from
``root/FashionMNIST/raw/`` (torchvision's layout, read with ``torchvision.datasets.FashionMNIST``),
``root/raw/``, or directly from ``root`` -- e.g. Debian's ``dataset-fashion-mnist`` package,
which installs the four ``.gz`` files in ``/usr/share/datasets/fashion-mnist`` (see :mod:`.idx`).
"""

from __future__ import annotations

from .base import Loader, RawDataset, Size
from .idx import check, load_idx_dataset

SIZE = Size(train=60_000, test=10_000, shape=(1, 28, 28))

NAME, TV_CLASS = "fashion_mnist", "FashionMNIST"
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def load_fashion_mnist(root, download: bool = False, size=28, grayscale: bool = True,
                       resample: str = "bilinear") -> RawDataset:
    """Load Fashion-MNIST from ``root``; ``download=True`` fetches it with torchvision into ``root/FashionMNIST/raw``."""
    return load_idx_dataset(NAME, root, TV_CLASS, 10, download, size, grayscale, resample)


def check_fashion_mnist(root) -> None:
    """Raise a one-line DataError unless the four idx files are present (nothing is read)."""
    check(NAME, root, TV_CLASS)


LOADER = Loader(NAME, "Fashion-MNIST's idx files (torchvision's layout or the four files)", load_fashion_mnist,
                check_fashion_mnist, SIZE, len(CLASSES), dgn=True, downloads=True)
