"""Dataset loaders. Each returns a :class:`RawDataset` (float32 NCHW in [0, 1]).

Every loader is one module declaring one :class:`Loader` (``LOADER = Loader(...)``: name, reader,
check, size and classes or how to read them from the data, whether DGN generators apply);
``LOADERS`` collects the declarations, and everything else reads them: :func:`load` loads dataset
``name`` from its data directory ``root``; :func:`check_available` verifies cheaply, without reading
any image, that the files the loader needs are there, raising a one-line :class:`DataError` naming
the directory and the files expected. Nothing is downloaded unless ``download=True``.
"""

from __future__ import annotations

from . import arrays, cifar10, digits, fashion_mnist, gtsrb, imagefolder, intel, mnist
from .base import Loader, RawDataset, Signature, Size, check_images
from .split import SPLITS, merged_sizes, split, split_sizes

#: The registered loaders by name, in the schema's order (its ``loader`` enum is the package's); :func:`register`
#: adds a plugin's.
LOADERS: dict[str, Loader] = {m.LOADER.name: m.LOADER for m in (digits, mnist, fashion_mnist, cifar10, gtsrb, intel,
                                                                 imagefolder, arrays)}

#: Loaders that fetch their data with torchvision when ``download: true`` (their declarations' ``downloads``; intel:
#: Kaggle only; imagefolder and arrays: the user's own data; digits: embedded).
DOWNLOADS = frozenset(name for name, declared in LOADERS.items() if declared.downloads)


def register(declared: Loader) -> None:
    """Add a loader declared outside the package (a module of the config's ``plugins``); a name already declared
    stops the run with one line."""
    global DOWNLOADS
    from ..plugins import check_new

    check_new("loader", getattr(declared, "name", None), LOADERS, declared, Loader)
    LOADERS[declared.name] = declared
    if declared.downloads:
        DOWNLOADS = DOWNLOADS | {declared.name}


def loader(name: str) -> Loader:
    """The registered loader ``name`` (KeyError listing the known ones otherwise)."""
    if name not in LOADERS:
        raise KeyError(f"unknown dataset {name!r}; choose one of {sorted(LOADERS)}")
    return LOADERS[name]


def prepared_sizes(name: str, split_config: dict) -> dict[str, int] | None:
    """Train / val / test sizes the prepare step will produce for a built-in loader ``name`` with this
    ``split`` config (``None`` for a loader whose size is only known from its data)."""
    size = loader(name).size
    if size is None:
        return None
    split_config = split_config or {}
    n_train, n_val, n_test = split_sizes(size.train, size.test, split_config.get("mode", "merged"),
                                         split_config.get("fractions", (0.7, 0.2, 0.1)), split_config.get("subset"),
                                         split_config.get("pool", ("train", "test")), split_config.get("sizes"),
                                         name=name)
    return {"train": n_train, "val": n_val, "test": n_test}


def load(name: str, root=None, **options) -> RawDataset:
    """Load dataset ``name`` from ``root`` (its directory; unused for embedded datasets)."""
    return loader(name).read(root, **options)


def check_available(name: str, root=None) -> None:
    """Raise a one-line DataError unless dataset ``name``'s files are present under ``root``.

    Cheap (no image is read): meant for the workflow's start-up, before any job runs.
    """
    loader(name).check(root)


def signature(name: str, root=None, options: dict | None = None) -> Signature:
    """``((C, H, W), classes, images)`` of dataset ``name`` once loaded with ``options``, read cheaply
    (:meth:`Loader.shape_classes_images`)."""
    return loader(name).shape_classes_images(root, options)


__all__ = ["DOWNLOADS", "LOADERS", "Loader", "RawDataset", "SPLITS", "Size", "check_available", "check_images", "load", "loader",
           "merged_sizes", "prepared_sizes", "register", "signature", "split", "split_sizes"]



def docs_table() -> str:
    """The loader table of docs/datasets.md (Markdown; ``python -m guided_retraining.regenerate``): one row per
    declared loader, from its declaration: name, what it reads, module, image size and classes (read from
    the files for a user's own data), the options it takes, whether it downloads and whether DeepCustom's
    generators apply."""
    head = ("| name | reads | module | default size (C x H x W) | classes | options | `download: true` | DGN |\n"
            "|---|---|---|---|---|---|---|---|\n")
    rows = []
    for name, declared in LOADERS.items():
        module = declared.read.__module__.rsplit(".", 1)[-1]
        size = "x".join(map(str, declared.size.shape)) if declared.size else "from the files"
        classes = str(declared.n_classes) if declared.n_classes else "from the files"
        options = ", ".join(f"`{o}`" for o in declared.options) or "none"
        rows.append(f"| `{name}` | {declared.summary} | `{module}.py` | {size} | {classes} | {options} |"
                    f" {'yes' if declared.downloads else 'no'} | {'yes' if declared.dgn else 'no'} |\n")
    return head + "".join(rows)

