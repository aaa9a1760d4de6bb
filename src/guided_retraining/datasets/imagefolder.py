"""A user's image folder: ``loader: imagefolder`` with ``root`` holding one folder per class.

Two layouts::

    root/train/<class>/**/<image>  and  root/test/<class>/**/<image>   (the folder's own test split)
    root/<class>/**/<image>                                           (no test split: split.mode merged)

Images are the files of every format Pillow reads (by extension, case-insensitive; hidden
files and folders skipped), read in sorted path order. Classes are the class folders'
names in sorted order (label = position); train and test must have the same classes.
Colour is kept (RGB, 3 channels) unless ``grayscale: true`` (PIL ``"L"``, 1 channel);
``size`` (an int or [height, width]) resizes with ``resample`` (PIL bilinear by default),
otherwise every image must already have the same size.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import Image

from ..errors import DataError
from ._common import check_pixels, parse_resample, parse_size, stack_images, to_float_nchw, to_pil
from .base import Loader, RawDataset

NAME = "imagefolder"
LAYOUT = "root/<class>/<images> or root/train/<class>/ and root/test/<class>/"


@lru_cache(maxsize=1)
def image_extensions() -> frozenset[str]:
    """Extensions of every format Pillow can open here (.png, .jpg, .jpeg, .bmp, .ppm, .tif, .webp, ...)."""
    Image.init()
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def _images(directory: Path) -> list[Path]:
    exts = image_extensions()
    found = []
    for here, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(here) / f for f in sorted(files) if not f.startswith(".") and Path(f).suffix.lower() in exts]
    return found


def _classes(directory: Path) -> dict[str, list[Path]]:
    """{class name: images} of one split folder; one-line DataError if empty or a class has no image."""
    classes = sorted(d.name for d in directory.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{NAME}: {directory}: no class folders found (expected {LAYOUT})")
    out = {c: _images(directory / c) for c in classes}
    empty = [c for c, files in out.items() if not files]
    if empty:
        raise DataError(f"{NAME}: {directory}: class folder(s) {', '.join(map(repr, empty))} hold no image"
                        f" (formats Pillow reads, e.g. .png, .jpg)")
    if len(classes) < 2:
        raise DataError(f"{NAME}: {directory}: a classifier needs at least two classes, found {len(classes)} class"
                        f" folder ({classes[0]!r}); put each class's images in a folder of its own ({LAYOUT})")
    return out


def scan(root) -> dict[str, dict[str, list[Path]]]:
    """``{"train": {class: images}, "test": {...}}`` (no "test" in the single-folder layout)."""
    if root is None or str(root) == "":
        raise DataError(f"{NAME}: no image folder configured; set root ({LAYOUT})")
    base = Path(os.path.abspath(os.path.expanduser(str(root))))
    if not base.is_dir():
        raise DataError(f"{NAME}: {base}: image folder not found ({LAYOUT})")
    if (base / "train").is_dir() and (base / "test").is_dir():
        parts = {"train": _classes(base / "train"), "test": _classes(base / "test")}
        if list(parts["train"]) != list(parts["test"]):
            raise DataError(f"{NAME}: {base}: train and test hold different classes: {list(parts['train'])}"
                            f" against {list(parts['test'])}")
        return parts
    return {"train": _classes(base)}


def check_imagefolder(root) -> None:
    """One-line DataError unless ``root`` is an image folder of a known layout with images in every class."""
    scan(root)


def signature(root, size=None, grayscale: bool = False, **_options) -> tuple[tuple[int, int, int], int, int]:
    """``((C, H, W), classes, images)`` after loading, from the folder listing and one image header."""
    parts = scan(root)
    hw = parse_size(NAME, size)
    if hw is None:
        w, h = _size(next(iter(parts["train"].values()))[0])
        hw = (h, w)
    n = sum(len(files) for part in parts.values() for files in part.values())
    return ((1 if grayscale else 3,) + hw, len(parts["train"]), n)


class _Files:
    """``ds[i] -> (uint8 array, label)`` over a list of (path, label)."""

    def __init__(self, samples, size, grayscale, resample):
        self.samples, self.size, self.grayscale, self.resample = samples, size, grayscale, resample

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i):
        path, label = self.samples[i]
        with Image.open(path) as img:
            return to_pil(img, self.size, self.grayscale, self.resample), label


def _size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as img:  # the header only
            check_pixels(img)
            return img.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError, ImageTooLarge
        raise DataError(f"{NAME}: {path}: cannot read ({exc.__class__.__name__}: {exc})") from None


def _common_size(paths: list[Path]) -> tuple[int, int]:
    """(height, width) shared by every image (headers only); one-line DataError naming the first that differs."""
    w, h = _size(paths[0])
    for path in paths[1:]:
        if _size(path) != (w, h):
            raise DataError(f"{NAME}: images differ in size ({path} is {'x'.join(map(str, _size(path)))},"
                            f" {paths[0]} is {w}x{h}); set options.size to resize them")
    return h, w


def load_imagefolder(root, download: bool = False, size=None, grayscale: bool = False, resample: str = "bilinear",
                     workers: int | None = None) -> RawDataset:
    """Load the image folder at ``root`` (see the module docstring); nothing is downloaded."""
    if download:
        raise DataError(f"{NAME}: download is not supported: the images are the user's own folder")
    parts = scan(root)
    classes = list(parts["train"])
    mode = parse_resample(NAME, resample)
    resize = parse_size(NAME, size)
    samples = {part: [(p, label) for label, c in enumerate(classes) for p in folders[c]]
               for part, folders in parts.items()}
    hw = resize or _common_size([p for part in samples.values() for p, _ in part])
    shape = hw if grayscale else hw + (3,)
    arrays = {}
    for part, items in samples.items():
        ds = _Files(items, resize, grayscale, mode)
        x, y = stack_images(NAME, ds, lambda i, items=items: str(items[i][0]), workers, shape)
        arrays[part] = (to_float_nchw(x), y)
    test = arrays.get("test", (None, None))
    return RawDataset(NAME, *arrays["train"], *test, len(classes), classes=classes)


LOADER = Loader(NAME, "your own images, one folder per class", load_imagefolder, check_imagefolder,
                signature=signature)
