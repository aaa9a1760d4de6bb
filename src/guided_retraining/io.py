"""Safe, atomic file input and output.

Every writer writes to a temporary file beside the target and renames it into
place, so a killed job never leaves a half-written file that a later step would
accept. Readers refuse pickled objects: arrays load with ``allow_pickle=False``
and model weights with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import contextlib
import functools
import io as _io
import json
import os
import platform
import tempfile
import threading
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .errors import DataError

# CPython 3.11.0-3.11.7 and 3.12.0-3.12.1 count the AST constructor's recursion in state shared by all
# threads: two threads building ASTs at once, with a garbage collection handing the GIL over between them,
# fail with "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905, fixed by #113035
# in 3.11.8 and 3.12.2). numpy parses each array's header with ast.literal_eval, and a local run's jobs are
# threads of the Snakemake process (profiles/default: force-use-threads), so every AST our code builds in
# a job (array headers here, a failed job's traceback in guided_retraining.runner) is built holding this
# lock. Not covered: Snakemake formats a failed job's traceback again in that job's thread, which on these
# Python versions can still break a parse of another job still running (after a failure, on the way out).
AST_LOCK = threading.Lock()

PACKAGES = ("guided-retraining", "torch", "torchattacks", "numpy", "scipy", "scikit-learn", "pandas", "snakemake")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success, delete it on error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp*"):  # left by a killed earlier attempt
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write arrays to a compressed-free ``.npz`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def load_npz(path: str | os.PathLike, required: Iterable[str] = (), only: bool = False) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` (no pickles) and check that ``required`` keys are present;
    ``only``: read just the ``required`` arrays."""
    path, required = Path(path), list(required)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with AST_LOCK, np.load(path, allow_pickle=False) as data:  # a member's header is parsed as it is read
            arrays = {k: data[k] for k in data.files if not only or k in required}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path}: refusing to load pickled objects (allow_pickle=False)") from None
        raise DataError(f"{path}: not a valid .npz array file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: corrupt or truncated .npz file ({exc})") from None
    _require(path, arrays, required)
    return arrays


def npz_headers(path: str | os.PathLike, required: Iterable[str] = ()) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """``{name: (shape, dtype)}`` of each array of an ``.npz`` from the headers alone (no data read)."""
    path = Path(path)
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for member in (m for m in zf.namelist() if m.endswith(".npy")):
                with zf.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    read = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                        else np.lib.format.read_array_header_2_0
                    with AST_LOCK:
                        shape, _, dtype = read(fh)
                out[member[:-4]] = (tuple(shape), dtype)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    _require(path, out, required)
    return out


def _require(path: Path, found: dict, required: Iterable[str]) -> None:
    missing = [k for k in required if k not in found]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; found {sorted(found)}")


def save_json(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON atomically (sorted keys, indented, trailing newline)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def load_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def save_tensors(path: str | os.PathLike, state: dict) -> None:
    """Save a dict of tensors atomically, loadable with ``weights_only=True``; the same tensors give the same
    bytes. (``torch.save`` to a path names the archive's records after the file: after the temporary file of
    the atomic write, a random name; saved to memory they are named ``archive/...`` whatever the path.)"""
    import torch

    buffer = _io.BytesIO()
    torch.save(state, buffer)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buffer.getvalue())


def save_state_dict(path: str | os.PathLike, model) -> None:
    """Save a model's state dict atomically (tensors only, loadable with ``weights_only=True``; byte-identical
    for the same weights: :func:`save_tensors`)."""
    save_tensors(path, {k: v.detach().cpu() for k, v in model.state_dict().items()})


def load_state_dict(path: str | os.PathLike, model) -> None:
    """Load weights into ``model`` with ``weights_only=True``; refuse pickles and mismatched architectures."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: model file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: refused or unreadable model file (loaded with weights_only=True): {first}") from None
    if not isinstance(state, dict):
        raise DataError(f"{path}: expected a state dict, found {type(state).__name__}")
    expected = model.state_dict()
    if set(state) != set(expected) or any(tuple(state[k].shape) != tuple(expected[k].shape) for k in expected):
        raise DataError(
            f"{path}: weights do not match architecture {type(model).__name__}"
            f" (expected {len(expected)} tensors {_shapes(expected)}, found {_shapes(state)})"
        )
    model.load_state_dict(state)


def _shapes(state: dict) -> str:
    items = list(state.items())[:3]
    text = ", ".join(f"{k}{tuple(v.shape)}" for k, v in items)
    return text + (", ..." if len(state) > 3 else "")


def provenance() -> dict[str, Any]:
    """Versions of Python and the packages that produce results."""
    return dict(_versions())


def result_provenance(device="cpu") -> dict[str, Any]:
    """The provenance every result JSON carries: ``versions`` (:func:`provenance`) and ``hardware``
    (:func:`guided_retraining.hardware.hardware`: device, GPU model, CUDA/cuDNN/driver versions, torch
    and the determinism flags of the job's process)."""
    from .hardware import hardware

    return {"versions": provenance(), "hardware": hardware(device)}


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, Any]:
    # once per process: every job of a local run (threads of one process) shares it
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def bytes_of_npz(**arrays: np.ndarray) -> bytes:
    """The bytes ``save_npz`` would write (for hashing in tests)."""
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
