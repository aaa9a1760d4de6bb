"""GTSRB: German Traffic Sign Recognition Benchmark, 43 classes (39,209 train / 12,630 test).

Reads torchvision's layout (what ``torchvision.datasets.GTSRB(root, download=True)`` writes, i.e.
the official ``GTSRB-Training_fixed.zip``, ``GTSRB_Final_Test_Images.zip`` and
``GTSRB_Final_Test_GT.zip`` extracted into ``root/gtsrb/``)::

    root/gtsrb/GTSRB/Training/00000/*.ppm (+ GT-00000.csv) .. 00042/
    root/gtsrb/GTSRB/Final_Test/Images/*.ppm
    root/gtsrb/GT-final_test.csv            # Filename;...;ClassId (';'-separated)

``root`` may also be the ``gtsrb`` folder itself. Training labels are the class folder numbers
(all 43 folders 00000..00042 must be there, so folder order equals class number); test labels
come from ``GT-final_test.csv``. The per-class ``GT-*.csv`` ROI annotations are not used (the
whole image is kept, as torchvision does). Images are read with ``torchvision.datasets.GTSRB``,
converted to grayscale (PIL ``"L"``) and resized to 48x48 (PIL bilinear) by default.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ._common import fixed_size_transform, missing, root_path, stack_images, to_float_nchw
from .base import Loader, RawDataset, Size

SIZE = Size(train=39_209, test=12_630, shape=(1, 48, 48), colour=True)

NAME = "gtsrb"
N_CLASSES = 43
CLASS_DIRS = tuple(f"{i:05d}" for i in range(N_CLASSES))
HINT = "torchvision layout: root/gtsrb/GTSRB/Training/00000..00042/, root/gtsrb/GTSRB/Final_Test/Images/, root/gtsrb/GT-final_test.csv"


def _parts(tv_root: Path) -> dict[str, Path]:
    base = tv_root / "gtsrb"
    return {"train": base / "GTSRB" / "Training", "test_images": base / "GTSRB" / "Final_Test" / "Images",
            "test_csv": base / "GT-final_test.csv"}


def _locate(root) -> Path:
    """The directory to hand to torchvision (the parent of ``gtsrb/``)."""
    base = root_path(NAME, root)
    tv_root = base.parent if (base / "GTSRB").is_dir() and not (base / "gtsrb").is_dir() else base
    p = _parts(tv_root)
    lacking = []
    if not p["train"].is_dir():
        lacking.append("gtsrb/GTSRB/Training/")
    else:
        absent = [c for c in CLASS_DIRS if not (p["train"] / c).is_dir()]
        if absent:
            shown = ", ".join(absent[:5]) + (f" and {len(absent) - 5} more" if len(absent) > 5 else "")
            lacking.append(f"class folders gtsrb/GTSRB/Training/{{{shown}}}")
        extra = sorted(e.name for e in p["train"].iterdir() if e.is_dir() and e.name not in CLASS_DIRS)
        if extra:  # torchvision numbers the folders in sorted order: a stray one would shift the labels
            raise DataError(f"{NAME}: {p['train']}: unexpected folders {', '.join(extra[:5])}"
                            " (only the class folders 00000..00042 may be there)")
    if not p["test_images"].is_dir():
        lacking.append("gtsrb/GTSRB/Final_Test/Images/")
    if not p["test_csv"].is_file():
        lacking.append("gtsrb/GT-final_test.csv")
    if lacking:
        raise missing(NAME, tv_root, ", ".join(lacking), HINT)
    return tv_root


def check_gtsrb(root) -> None:
    """Raise a one-line DataError unless the training class folders and test folder and CSV exist."""
    _locate(root)


def load_gtsrb(root, download: bool = False, size=48, grayscale: bool = True, resample: str = "bilinear",
               workers: int | None = None) -> RawDataset:
    """Load GTSRB from ``root``; ``download=True`` fetches it with torchvision into ``root/gtsrb``."""
    transform, item = fixed_size_transform(NAME, size, grayscale, resample)
    from torchvision.datasets import GTSRB

    if download:
        for split in ("train", "test"):
            GTSRB(str(root_path(NAME, root)), split=split, download=True)
    tv_root = _locate(root)
    out = []
    for split in ("train", "test"):
        try:
            ds = GTSRB(str(tv_root), split=split, transform=transform)
        except (OSError, RuntimeError, KeyError, ValueError) as e:
            raise DataError(f"{NAME}: {tv_root}: cannot list the {split} images ({e.__class__.__name__}: {e})"
                            ) from e
        x, y = stack_images(NAME, ds, lambda i, ds=ds, split=split: f"{split} image {i} ({ds._samples[i][0]})", workers, item)
        if len(x) == 0:
            raise missing(NAME, tv_root, f"{split} images (*.ppm) in the folders", HINT)
        if y.min() < 0 or y.max() >= N_CLASSES:
            raise DataError(f"{NAME}: {tv_root}: {split} labels outside 0..{N_CLASSES - 1}")
        out += [to_float_nchw(x), y]
    return RawDataset(NAME, out[0], out[1], out[2], out[3], N_CLASSES)


LOADER = Loader(NAME, "GTSRB in torchvision's layout", load_gtsrb, check_gtsrb, SIZE, N_CLASSES,
                downloads=True)
