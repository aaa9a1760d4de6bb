"""Shared pieces of the on-disk loaders: one-line errors, preprocessing as the study did.

Preprocessing (the replication package, Keras ``load_img(color_mode="grayscale",
target_size=...)`` order): convert each image to 8-bit grayscale with PIL's ``"L"``
conversion (ITU-R 601-2 luma, ``L = R*299/1000 + G*587/1000 + B*114/1000``, computed in
PIL's fixed-point arithmetic), then resize (PIL, bilinear by default), then scale to
float32 in [0, 1], channels first.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from ..errors import ConfigError, DataError

RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
}


def root_path(name: str, root) -> Path:
    """The configured directory of dataset ``name`` as an absolute path (one-line error if unset)."""
    if root is None or str(root) == "":
        raise DataError(f"{name}: no data directory configured; set datasets.{name}.root")
    return Path(os.path.abspath(os.path.expanduser(str(root))))


def missing(name: str, where: Path, expected: str, hint: str = "") -> DataError:
    """The one-line error for absent or incomplete data.

    Format: ``<name>: <directory>: expected <files or folders>[ (<layout hint>)]; set datasets.<name>.root``.
    """
    hint = f" ({hint})" if hint else ""
    return DataError(f"{name}: {where}: expected {expected}{hint}; set datasets.{name}.root")


def parse_size(name: str, size) -> tuple[int, int] | None:
    """``size`` option: ``None`` (keep), an int (square) or a (height, width) pair."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        h = w = int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, (int, np.integer)) for v in size):
        h, w = int(size[0]), int(size[1])
    else:
        raise ConfigError(f"datasets.{name}.size: expected an integer or [height, width], got {size!r}")
    if h < 1 or w < 1:
        raise ConfigError(f"datasets.{name}.size: must be positive, got {size!r}")
    return h, w


def parse_resample(name: str, resample: str) -> int:
    if resample not in RESAMPLE:
        raise ConfigError(f"datasets.{name}.resample: expected one of {sorted(RESAMPLE)}, got {resample!r}")
    return RESAMPLE[resample]


def luma(rgb: np.ndarray) -> np.ndarray:
    """PIL's ``convert("L")`` on uint8 RGB arrays (..., 3), vectorised and bit-identical."""
    rgb = rgb.astype(np.uint32)
    return ((rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16).astype(np.uint8)


# Pillow's own decompression-bomb bound (89,478,485 pixels): above it Pillow only warns and decodes the
# whole image, above twice it raises DecompressionBombError (neither OSError nor ValueError). Images with
# more pixels stop here, from their header, before anything is decoded.
MAX_PIXELS = 89_478_485


class ImageTooLarge(ValueError):
    """An image with more than :data:`MAX_PIXELS` pixels (an oversized image or a decompression bomb)."""


def check_pixels(img: Image.Image) -> None:
    """Raise :class:`ImageTooLarge` when ``img``'s header announces more than :data:`MAX_PIXELS` pixels."""
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageTooLarge(f"{w}x{h} = {w * h:,} pixels, more than the {MAX_PIXELS:,} an image may have"
                            " (Pillow's decompression-bomb limit)")


def to_pil(img: Image.Image, size: tuple[int, int] | None, grayscale: bool, resample: int) -> np.ndarray:
    """One PIL image -> uint8 array (H, W) in grayscale, else (H, W, 3), resized to ``size``; images over
    :data:`MAX_PIXELS` pixels raise :class:`ImageTooLarge` before they are decoded."""
    check_pixels(img)
    img = img.convert("L" if grayscale else "RGB")
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), resample)
    return np.asarray(img, dtype=np.uint8)


def resize_uint8(x: np.ndarray, size: tuple[int, int] | None, resample: int) -> np.ndarray:
    """Resize a uint8 batch (N, H, W) or (N, H, W, 3) with PIL; unchanged when already ``size``."""
    if size is None or tuple(x.shape[1:3]) == tuple(size):
        return x
    out = np.empty((len(x), size[0], size[1]) + x.shape[3:], dtype=np.uint8)
    for i, img in enumerate(x):
        out[i] = np.asarray(Image.fromarray(img).resize((size[1], size[0]), resample))
    return out


def to_float_nchw(x: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) or (N, H, W, C) -> float32 (N, C, H, W) in [0, 1]."""
    if x.ndim == 3:
        x = x[:, None, :, :]
    else:
        x = x.transpose(0, 3, 1, 2)
    out = np.empty(x.shape, dtype=np.float32)
    np.divide(x, np.float32(255.0), out=out, casting="unsafe")  # as Keras code does: x.astype("float32") / 255
    return out


def fixed_size_transform(name: str, size, grayscale: bool, resample: str):
    """``(transform, shape)`` for images resized to one ``size``: PIL image -> uint8 array of ``shape``."""
    hw = parse_size(name, size)
    if hw is None:
        raise DataError(f"{name}: images differ in size; set datasets.{name}.size (the study used 48)")
    mode = parse_resample(name, resample)
    return (lambda img: to_pil(img, hw, grayscale, mode)), (hw if grayscale else hw + (3,))


def stack_images(name: str, ds: Sequence, where: Callable[[int], str], workers: int | None,
                 shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Read every ``ds[i] -> (uint8 array, label)`` on a thread pool; ``where(i)`` names image ``i`` in errors."""
    n = len(ds)
    x = np.empty((n,) + shape, dtype=np.uint8)
    y = np.empty(n, dtype=np.int64)
    # threads did not pay off on small images (measured, see docs/datasets.md): one reader by default
    workers = 1 if workers is None else max(1, int(workers))

    def one(i: int) -> None:
        try:
            arr, label = ds[i]
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise DataError(f"{name}: {where(i)}: cannot read ({e.__class__.__name__}: {e})") from e
        if arr.shape != shape:
            raise DataError(f"{name}: image {i} has shape {arr.shape} after preprocessing, expected {shape}")
        x[i], y[i] = arr, label

    if workers == 1 or n < 64:
        for i in range(n):
            one(i)
    else:
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(one, range(n), chunksize=256):
                pass
    return x, y

