"""MNIST-style datasets stored as four idx files (shared by the MNIST and Fashion-MNIST loaders).

On-disk layouts accepted, tried in this order under the configured ``root``:

1. torchvision's: ``root/<MNIST|FashionMNIST>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
   (what ``torchvision.datasets.MNIST(root, download=True)`` writes); read through torchvision's
   class when the four uncompressed files are there, else (only ``.gz`` copies) read here;
2. ``root/raw/`` with the four files (``root`` pointing at ``.../MNIST``);
3. the four files directly in ``root``, gzip-compressed or not (the official download as
   published; Debian's ``dataset-fashion-mnist`` installs them in ``/usr/share/datasets/fashion-mnist``).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._common import missing, parse_resample, parse_size, resize_uint8, root_path, to_float_nchw
from .base import RawDataset

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
_DTYPES = {0x08: np.uint8}


def _find(d: Path, base: str) -> Path | None:
    for cand in (d / base, d / f"{base}.gz"):
        if cand.is_file():
            return cand
    return None


def locate(name: str, root, tv_folder: str) -> tuple[Path, dict[str, Path], bool]:
    """Find the four idx files; returns (directory, {base: path}, is torchvision's uncompressed layout)."""
    base = root_path(name, root)
    for d in (base / tv_folder / "raw", base / "raw", base):
        found = {f: _find(d, f) for f in FILES}
        if all(found.values()):
            tv = d == base / tv_folder / "raw" and all(p.name == f for f, p in found.items())
            return d, found, tv
    # name what is missing in the most complete candidate, so the message points at the real gap
    best = max((base / tv_folder / "raw", base / "raw", base), key=lambda d: sum(_find(d, f) is not None for f in FILES))
    have = [f for f in FILES if _find(best, f) is not None]
    where = best if have else base
    lacking = [f for f in FILES if f not in have]
    expected = ", ".join(f"{f}[.gz]" for f in (lacking or FILES))
    hint = f"torchvision layout {tv_folder}/raw/ or the four idx files directly"
    if have:
        expected = f"{expected} (found only {', '.join(have)})"
    raise missing(name, where, expected, hint)


def check(name: str, root, tv_folder: str) -> None:
    locate(name, root, tv_folder)


def available(name: str, root, tv_folder: str) -> bool:
    """Whether the four idx files are in one of the layouts under ``root``."""
    try:
        locate(name, root, tv_folder)
    except DataError:
        return False
    return True


# Deflate's largest compression ratio is about 1032:1 (258-byte matches coded in 2 bits): a gzip file of
# n bytes cannot hold more than ~1032 n bytes, so a header announcing more is rejected before decompressing.
_DEFLATE_MAX_RATIO = 1032


def read_idx(name: str, path: Path, ndim: int) -> np.ndarray:
    """Read one idx file (gzip detected by its magic bytes) into a uint8 array, checking its size.

    The header (magic and dimensions) is read first; then at most the announced number of bytes plus one
    are read (decompressed), so a gzip'd file that holds more than its header says, or a header that
    announces more than the file could hold, stops with a DataError before a large decompression."""
    path = Path(path)
    try:
        on_disk = path.stat().st_size
        with open(path, "rb") as f:
            compressed = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as f:
            head = f.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _DTYPES or head[3] != ndim:
                raise DataError(f"{name}: {path}: not an idx file of {ndim}-D unsigned bytes (bad header)")
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{name}: {path}: truncated idx header")
            dims = tuple(int(v) for v in np.frombuffer(raw_dims, dtype=">u4", count=ndim))
            need = int(np.prod(dims, dtype=np.int64))
            most = on_disk * _DEFLATE_MAX_RATIO if compressed else on_disk - 4 - 4 * ndim
            if need > most:
                raise DataError(f"{name}: {path}: header announces {dims} bytes = {need}, more than its {on_disk}"
                                f" bytes{' (gzip)' if compressed else ''} can hold (truncated or corrupt download)")
            data = f.read(need + 1)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{name}: {path}: cannot read ({e.__class__.__name__}: {e})") from e
    if len(data) != need:
        held = f"{len(data)}" if len(data) <= need else "more"
        raise DataError(f"{name}: {path}: header announces {dims} bytes = {need}, file holds {held}"
                        " (truncated or corrupt download)")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def load_idx_dataset(name: str, root, tv_class: str, n_classes: int, download: bool = False, size=28,
                     grayscale: bool = True, resample: str = "bilinear") -> RawDataset:
    """Load an MNIST-style dataset; see the module docstring for the layouts."""
    shape = parse_size(name, size)
    mode = parse_resample(name, resample)
    if download and not available(name, root, tv_class):  # fetched only when absent from every layout
        import torchvision.datasets as tvd

        base = root_path(name, root)
        for train in (True, False):
            getattr(tvd, tv_class)(str(base), train=train, download=True)
    directory, files, tv = locate(name, root, tv_class)
    parts = {}
    if tv:
        import torchvision.datasets as tvd

        for train in (True, False):
            try:
                ds = getattr(tvd, tv_class)(str(root_path(name, root)), train=train, download=False)
            except (RuntimeError, AssertionError, TypeError, ValueError) as e:
                raise DataError(f"{name}: {directory}: torchvision cannot read the idx files ({e})") from e
            parts[train] = (ds.data.numpy(), ds.targets.numpy().astype(np.int64))
    else:
        for train, prefix in ((True, "train"), (False, "t10k")):
            x = read_idx(name, files[f"{prefix}-images-idx3-ubyte"], 3)
            y = read_idx(name, files[f"{prefix}-labels-idx1-ubyte"], 1).astype(np.int64)
            parts[train] = (x, y)
    out = []
    for train in (True, False):
        x, y = parts[train]
        split = "train" if train else "t10k"
        if len(x) != len(y):
            raise DataError(f"{name}: {directory}: {len(x)} {split} images but {len(y)} {split} labels")
        if len(y) and y.max() >= n_classes:
            raise DataError(f"{name}: {directory}: {split} labels outside 0..{n_classes - 1}")
        # grayscale has no effect: the images are single-channel already
        out += [to_float_nchw(resize_uint8(x, shape, mode)), y]
    return RawDataset(name, out[0], out[1], out[2], out[3], n_classes)
