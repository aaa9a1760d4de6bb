"""Intel Image Classification ("natural scenes"): 150x150 JPEGs of 6 classes (14,034 train / 3,000 test).

Reads Kaggle's published layout (the folder is doubled inside the archive)::

    root/seg_train/seg_train/{buildings,forest,glacier,mountain,sea,street}/*.jpg
    root/seg_test/seg_test/{buildings,forest,glacier,mountain,sea,street}/*.jpg

or the single-level ``root/seg_train/<class>/`` and ``root/seg_test/<class>/``. ``seg_pred/``
(unlabelled) is ignored. Images are read with ``torchvision.datasets.ImageFolder`` with the class
index fixed to the alphabetical order above (extra folders are ignored), converted to grayscale
(PIL ``"L"``) and resized to 48x48 (PIL bilinear) by default.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ._common import fixed_size_transform, missing, root_path, stack_images, to_float_nchw
from .base import Loader, RawDataset, Size

SIZE = Size(train=14_034, test=3_000, shape=(1, 48, 48), colour=True)

NAME = "intel"
CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")
HINT = "Kaggle layout root/seg_{train,test}/seg_{train,test}/<class>/*.jpg or root/seg_{train,test}/<class>/"


def _split_dir(base: Path, split: str) -> Path | None:
    for d in (base / split / split, base / split):
        if all((d / c).is_dir() for c in CLASSES):
            return d
    return None


def _locate(root) -> dict[str, Path]:
    base = root_path(NAME, root)
    found, lacking = {}, []
    for split in ("seg_train", "seg_test"):
        d = _split_dir(base, split)
        if d is None:
            lacking.append(f"{split}/[{split}/]{{{','.join(CLASSES)}}}/")
        found[split] = d
    if lacking:
        raise missing(NAME, base, " and ".join(lacking), HINT)
    return found


def check_intel(root) -> None:
    """Raise a one-line DataError unless both splits hold the six class folders (nothing is read)."""
    _locate(root)


def _image_folder(directory: Path, transform):
    from torchvision.datasets import ImageFolder

    class _Fixed(ImageFolder):
        def find_classes(self, directory):
            return list(CLASSES), {c: i for i, c in enumerate(CLASSES)}

    return _Fixed(str(directory), transform=transform)


def load_intel(root, download: bool = False, size=48, grayscale: bool = True, resample: str = "bilinear",
               workers: int | None = None) -> RawDataset:
    """Load Intel natural scenes from ``root`` (no download: the data is only published on Kaggle)."""
    transform, item = fixed_size_transform(NAME, size, grayscale, resample)
    try:
        dirs = _locate(root)
    except DataError as e:
        if download:  # nothing torchvision can fetch: Kaggle needs an account
            raise DataError(f"{e}; download is not supported for {NAME}: fetch"
                            " kaggle.com/datasets/puneet6060/intel-image-classification") from None
        raise
    out = []
    for split in ("seg_train", "seg_test"):
        try:
            ds = _image_folder(dirs[split], transform)
        except (OSError, RuntimeError, ValueError) as e:  # FileNotFoundError when a class folder holds no image
            raise DataError(f"{NAME}: {dirs[split]}: {e.__class__.__name__}: {e}") from e
        x, y = stack_images(NAME, ds, lambda i: ds.samples[i][0], workers, item)
        out += [to_float_nchw(x), y]
    return RawDataset(NAME, out[0], out[1], out[2], out[3], len(CLASSES))


LOADER = Loader(NAME, "Intel natural scenes in Kaggle's layout", load_intel, check_intel, SIZE, len(CLASSES))
