"""CIFAR-10: 60,000 32x32 colour images (50,000 train / 10,000 test), 10 classes.

Reads the official "python version" layout, ``root/cifar-10-batches-py/`` (or ``root`` itself
when it is that folder) holding ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``: pickled
dicts with ``data`` (N x 3072 uint8, channel planes R, G, B of 32x32) and ``labels``, as written by
``tar xzf cifar-10-python.tar.gz`` or ``torchvision.datasets.CIFAR10(root, download=True)``.

The batches are read as ``torchvision.datasets.CIFAR10`` reads them (same reshaping), but through
a restricted unpickler that only rebuilds dicts, lists, strings, numbers and numpy arrays, so a
foreign pickle in the data directory cannot run code. ``verify=True`` (default) also checks each
batch's MD5 against the official checksums torchvision publishes (``CIFAR10.train_list``/``test_list``).
Images are converted to grayscale as the study did (PIL ``"L"``), 32x32 unless ``size`` says otherwise.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import numpy as np

from ..errors import DataError
from ._common import luma, missing, parse_resample, parse_size, resize_uint8, root_path, to_float_nchw
from .base import Loader, RawDataset, Size

SIZE = Size(train=50_000, test=10_000, shape=(1, 32, 32), colour=True)

NAME = "cifar10"
FOLDER = "cifar-10-batches-py"
TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST = ("test_batch",)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _official_md5() -> dict[str, str]:
    from torchvision.datasets import CIFAR10

    return {f: md5 for f, md5 in CIFAR10.train_list + CIFAR10.test_list}


def _locate(root) -> Path:
    base = root_path(NAME, root)
    cands = (base / FOLDER, base)
    for d in cands:
        if all((d / f).is_file() for f in TRAIN + TEST):
            return d
    best = max(cands, key=lambda d: sum((d / f).is_file() for f in TRAIN + TEST))
    have = [f for f in TRAIN + TEST if (best / f).is_file()]
    lacking = [f for f in TRAIN + TEST if f not in have]
    where = best if have else base / FOLDER
    expected = ", ".join(lacking) + (f" (found only {', '.join(have)})" if have else "")
    raise missing(NAME, where, expected, f"the extracted cifar-10-python.tar.gz: root/{FOLDER}/")


def check_cifar10(root) -> None:
    """Raise a one-line DataError unless the six batch files are present (nothing is read)."""
    _locate(root)


class _SafeUnpickler(pickle.Unpickler):
    """Only what a CIFAR batch contains: builtins and numpy array reconstruction."""

    def find_class(self, module: str, name: str):
        if (module, name) in {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}:
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy < 2
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        if (module, name) in {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}:
            try:
                from numpy._core.numeric import _frombuffer
            except ImportError:  # numpy < 2
                from numpy.core.numeric import _frombuffer
            return _frombuffer
        if (module, name) == ("_codecs", "encode"):  # bytes pickled by Python 3 at protocol < 3
            import _codecs

            return _codecs.encode
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if module in ("copy_reg", "copyreg") and name == "_reconstructor":
            import copyreg

            return copyreg._reconstructor
        if module in ("__builtin__", "builtins") and name in ("object", "list", "dict", "tuple", "set", "bytearray"):
            import builtins

            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")


def _read_batch(path: Path, raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse the bytes ``raw`` of the batch file ``path``."""
    try:
        entry = _SafeUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as e:  # any unpickling failure means a corrupt or foreign file
        raise DataError(f"{NAME}: {path}: not a CIFAR-10 python batch ({e.__class__.__name__}: {e})") from e
    if not isinstance(entry, dict):
        raise DataError(f"{NAME}: {path}: not a CIFAR-10 python batch (no dict inside)")
    entry = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}
    labels = entry.get("labels", entry.get("fine_labels"))
    data = entry.get("data")
    if data is None or labels is None:
        raise DataError(f"{NAME}: {path}: batch lacks 'data' or 'labels'")
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise DataError(f"{NAME}: {path}: expected uint8 data of shape (N, 3072) and N labels,"
                        f" found {data.dtype} {data.shape} and {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(labels, dtype=np.int64)


def load_cifar10(root, download: bool = False, size=32, grayscale: bool = True, resample: str = "bilinear",
                 verify: bool = True) -> RawDataset:
    """Load CIFAR-10 from ``root``; ``download=True`` fetches it with torchvision into ``root/cifar-10-batches-py``."""
    shape = parse_size(NAME, size)
    mode = parse_resample(NAME, resample)
    if download:
        from torchvision.datasets import CIFAR10

        CIFAR10(str(root_path(NAME, root)), train=True, download=True)
    d = _locate(root)
    raw = {f: (d / f).read_bytes() for f in TRAIN + TEST}  # read once, for the checksum and the arrays
    if verify:
        official = _official_md5()
        for f in TRAIN + TEST:
            if hashlib.md5(raw[f]).hexdigest() != official[f]:
                raise DataError(f"{NAME}: {d / f}: MD5 differs from the official file (corrupt or modified);"
                                " re-extract cifar-10-python.tar.gz or set verify: false")
    out = []
    for files in (TRAIN, TEST):
        xs, ys = zip(*(_read_batch(d / f, raw[f]) for f in files))
        x, y = np.concatenate(xs), np.concatenate(ys)
        if len(y) and (y.min() < 0 or y.max() >= 10):
            raise DataError(f"{NAME}: {d}: labels outside 0..9")
        if grayscale:
            x = luma(x)
        out += [to_float_nchw(resize_uint8(x, shape, mode)), y]
    return RawDataset(NAME, out[0], out[1], out[2], out[3], 10)


LOADER = Loader(NAME, "CIFAR-10's python batches (MD5-checked, read without running pickled code)", load_cifar10,
                check_cifar10, SIZE, len(CLASSES), dgn=True, downloads=True)
