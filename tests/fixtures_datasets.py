"""Writers of tiny datasets in each dataset's real on-disk format (used by tests/test_datasets*.py)."""

from __future__ import annotations

import gzip
import os
import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

from guided_retraining.example_data import write_shapes_folder  # noqa: F401  (the worked example's folder)

REPO = Path(__file__).resolve().parents[1]

# pure colours and their PIL "L" values (ITU-R 601-2 luma in PIL's fixed point)
COLOURS = {"red": ((255, 0, 0), 76), "green": ((0, 255, 0), 150), "blue": ((0, 0, 255), 29),
           "white": ((255, 255, 255), 255), "black": ((0, 0, 0), 0), "grey": ((100, 100, 100), 100)}


def shared_dir() -> Path:
    """The project's shared data folder: $GR_SHARED_DIR, else ../shared next to the repository."""
    env = os.environ.get("GR_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared"


def class_colour(c: int) -> tuple[int, int, int]:
    """A distinct, known RGB colour per class."""
    return ((37 * c + 11) % 256, (91 * c + 50) % 256, (53 * c + 200) % 256)


def luma(rgb) -> int:
    """PIL's "L" value of one RGB colour, computed by PIL itself."""
    return int(np.asarray(Image.new("RGB", (1, 1), tuple(rgb)).convert("L"))[0, 0])


# ---- idx (MNIST / Fashion-MNIST) -------------------------------------------------------------

def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    return header + arr.tobytes()


def write_idx_dataset(d: Path, n_train=12, n_test=5, gz=True, rng_seed=0) -> dict[str, np.ndarray]:
    """The four idx files of a tiny MNIST-like dataset in ``d`` (``.gz`` or plain); returns the arrays."""
    rng = np.random.default_rng(rng_seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    d.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (d / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return arrays


# ---- CIFAR-10 (python version) ---------------------------------------------------------------

def _py2_str(b: bytes) -> bytes:
    return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<I", len(b)) + b)


def py2_batch_bytes(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch pickled as the official files are (Python 2, protocol 2, numpy 1.x globals, str keys).

    Built opcode by opcode: ``{'data': <uint8 array>, 'labels': [...]}`` whose array state is a
    Python 2 ``str`` and whose globals are ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
    ``numpy.dtype`` -- what ``pickle.load(f, encoding="latin1")`` meets in cifar-10-python.tar.gz.
    """
    s = _py2_str
    n, m = data.shape
    dtype = (b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R" + b"(K\x03" + s(b"|")
             + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    shape = b"M" + struct.pack("<H", n) + b"M" + struct.pack("<H", m) + b"\x86"
    arr = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85" + s(b"b") + b"\x87R"
           + b"(K\x01" + shape + dtype + b"\x89" + s(np.ascontiguousarray(data, np.uint8).tobytes()) + b"tb")
    labs = b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + arr + s(b"labels") + labs + b"u."


def write_cifar10(root: Path, per_batch=4, protocol=2) -> dict[str, tuple[np.ndarray, list[int]]]:
    """``root/cifar-10-batches-py/`` with data_batch_1..5, test_batch and batches.meta.

    Each batch holds ``per_batch`` images: image 0 pure red, 1 pure green, 2 pure blue, the
    rest random; labels ``(batch_index + i) % 10``. ``protocol="py2"`` writes them byte-for-byte
    as the official Python 2 pickles are laid out. Returns {file: (HWC uint8 images, labels)}.
    """
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = {}
    files = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(files):
        hwc = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        for i, colour in enumerate(("red", "green", "blue")[:per_batch]):
            hwc[i] = COLOURS[colour][0]
        labels = [(b + i) % 10 for i in range(per_batch)]
        data = hwc.transpose(0, 3, 1, 2).reshape(per_batch, 3072)  # R plane, G plane, B plane
        entry = {"batch_label": f"{name} of 6", "labels": labels, "data": data,
                 "filenames": [f"img_{b}_{i}.png" for i in range(per_batch)]}
        if protocol == "py2":
            (d / name).write_bytes(py2_batch_bytes(data, labels))
        else:
            (d / name).write_bytes(pickle.dumps(entry, protocol=protocol))
        out[name] = (hwc, labels)
    meta = {"num_cases_per_batch": per_batch, "label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                                             "frog", "horse", "ship", "truck"], "num_vis": 3072}
    (d / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return out


# ---- GTSRB (torchvision layout) ---------------------------------------------------------------

def write_gtsrb(root: Path, per_class=1, n_test=6, classes=43) -> dict:
    """torchvision's GTSRB layout under ``root/gtsrb`` with ``per_class`` ppm images per class.

    Training image j of class c is a uniform ``class_colour(c)`` image of (24 + j) x (20 + c % 7)
    pixels; test image k has class ``(3 * k) % classes`` and a horizontal gradient (for resize checks).
    """
    base = root / "gtsrb"
    train = base / "GTSRB" / "Training"
    header = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId"
    for c in range(classes):
        cd = train / f"{c:05d}"
        cd.mkdir(parents=True, exist_ok=True)
        rows = [header]
        for j in range(per_class):
            w, h = 24 + j, 20 + c % 7
            name = f"00000_{j:05d}.ppm"
            Image.new("RGB", (w, h), class_colour(c)).save(cd / name)
            rows.append(f"{name};{w};{h};1;1;{w - 2};{h - 2};{c}")
        (cd / f"GT-{c:05d}.csv").write_text("\n".join(rows) + "\n")
    images = base / "GTSRB" / "Final_Test" / "Images"
    images.mkdir(parents=True, exist_ok=True)
    rows, test = [header], []
    for k in range(n_test):
        c = (3 * k) % classes
        w, h = 40 + k, 30
        grad = np.tile(np.linspace(0, 255, w).astype(np.uint8)[None, :, None], (h, 1, 3))
        grad[..., 1] = class_colour(c)[1]
        name = f"{k:05d}.ppm"
        Image.fromarray(grad).save(images / name)
        rows.append(f"{name};{w};{h};2;2;{w - 3};{h - 3};{c}")
        test.append((images / name, c))
    (base / "GT-final_test.csv").write_text("\n".join(rows) + "\n")
    return {"train": train, "test": test, "csv": base / "GT-final_test.csv"}


# ---- Intel natural scenes (Kaggle layout) -----------------------------------------------------

INTEL_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")


def write_intel(root: Path, per_class=2, n_test_per_class=1, doubled=True, fmt="JPEG") -> dict:
    """``root/seg_train[/seg_train]/<class>/*.jpg`` and the same for seg_test; also an unlabelled seg_pred/.

    Image j of class c is a uniform ``class_colour(c)`` image, 150x150 except the last training
    image of each class, 150x113 (Kaggle's set has a few such). Returns {split: [(path, class)]}.
    """
    out = {}
    for split, n in (("seg_train", per_class), ("seg_test", n_test_per_class)):
        top = root / split / split if doubled else root / split
        out[split] = []
        for c, cls in enumerate(INTEL_CLASSES):
            cd = top / cls
            cd.mkdir(parents=True, exist_ok=True)
            for j in range(n):
                size = (150, 113) if (split == "seg_train" and j == n - 1) else (150, 150)
                ext = "jpg" if fmt == "JPEG" else fmt.lower()
                p = cd / f"{100 * c + j}.{ext}"
                Image.new("RGB", size, class_colour(c)).save(p, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
                out[split].append((p, c))
    pred = root / "seg_pred" / "seg_pred"
    pred.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (150, 150), (1, 2, 3)).save(pred / "5.jpg")
    return out


# ---- a user's image folder and model (loader imagefolder, arch {factory}) ----------------------

def write_digits_folder(root: Path, per_class=None, split=False, fmt="png") -> dict[str, list[tuple[Path, int]]]:
    """scikit-learn's digits as one 8x8 grayscale image file per digit under ``root/<digit name>/``.

    Pixel value v (0..16) is stored as 15 * v (0..240), so it loads back as 15 * v / 255 exactly.
    ``per_class`` keeps the first images of each digit; ``split`` writes ``train/`` and ``test/``
    folders (every fifth image to test). Class folders are named ``d0`` .. ``d9``. Returns
    {part: [(path, label)]}.
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    out: dict[str, list] = {"train": [], "test": []}
    seen = np.zeros(10, int)
    for i, (img, label) in enumerate(zip(d.images, d.target)):
        if per_class is not None and seen[label] >= per_class:
            continue
        part = "test" if split and seen[label] % 5 == 4 else "train"
        seen[label] += 1
        folder = (root / part if split else root) / f"d{label}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:04d}.{fmt}"
        Image.fromarray((img * 15).astype(np.uint8), "L").save(path)
        out[part].append((path, int(label)))
    return out


#: A user's model module, outside the package: written by tests to a temporary folder.
USER_MODEL_SOURCE = '''
from torch import nn


class Net(nn.Module):
    def __init__(self, channels=3, n_classes=10, width=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * width, 32), nn.ReLU(), nn.Dropout(0.25), nn.Linear(32, n_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def make(**kwargs):
    return Net(**kwargs)


def not_a_module():
    return "a string"
'''


def write_user_model(folder: Path, name: str = "user_net.py") -> Path:
    """Write :data:`USER_MODEL_SOURCE` to ``folder/name``; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(USER_MODEL_SOURCE)
    return path
