"""Where a job ran and how reproducibly: the device, its GPU and driver, and the determinism switch.

:func:`set_deterministic` is the config's ``deterministic`` key (default true). It sets, for the whole
process (the jobs of a local run are threads of one process; on a cluster each job is its own process,
and both go through :func:`guided_retraining.runner.execute`, which calls it before the job's code):

- ``torch.backends.cudnn.deterministic = True`` and ``torch.backends.cudnn.benchmark = False``
  (cuDNN picks the same, deterministic convolution algorithm every time);
- TF32 off: ``torch.backends.cuda.matmul.allow_tf32 = False``, ``torch.backends.cudnn.allow_tf32 = False``
  and ``torch.set_float32_matmul_precision("highest")`` (on Ampere and newer GPUs TF32 rounds float32
  products to a 10-bit mantissa: activations move by ~1e-3 relative);
- ``torch.use_deterministic_algorithms(True)`` with ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (cuBLAS's
  reductions in a fixed order); an operation without a deterministic CUDA kernel then raises instead of
  differing silently, and the library uses deterministic equivalents where torch has none (feature
  squeezing's median: a stable sort on CUDA instead of ``kthvalue``).

Source: PyTorch's "Reproducibility" notes (https://pytorch.org/docs/stable/notes/randomness.html) and
the documentation of ``torch.use_deterministic_algorithms``. On the CPU these settings change no result
(the CPU kernels the library uses are deterministic already).

:func:`hardware` is what every result JSON records under ``"hardware"`` (through
:func:`guided_retraining.io.result_provenance`): the device the job used, its GPU model, CUDA, cuDNN and
driver versions (``None`` on the CPU), torch's version and the determinism flags as they were set in the
job's process.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from typing import Any

CUBLAS_WORKSPACE_CONFIG = ":4096:8"
_lock = threading.Lock()
_state: bool | None = None


def set_deterministic(on: bool = True) -> None:
    """Set (``on``) or reset the determinism flags above for this process; a no-op when already so."""
    global _state
    on = bool(on)
    with _lock:
        if _state is on:
            return
        import torch

        if on and os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in (":4096:8", ":16:8"):
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE_CONFIG  # read when cuBLAS starts
        torch.backends.cudnn.deterministic = on
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = not on
        torch.backends.cudnn.allow_tf32 = not on
        torch.set_float32_matmul_precision("highest" if on else "high")
        torch.use_deterministic_algorithms(on)
        _state = on


def resolve_device(device="cpu"):
    """The one device resolver of the library (training, attacks, activations, metrics): the ``torch.device``
    of ``device``. ``auto`` picks CUDA when available, else the CPU; ``cpu``, ``cuda`` or ``cuda:N`` (or a
    ``torch.device``) as given; a one-line ConfigError when CUDA is asked for but absent."""
    import torch

    from .errors import ConfigError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device: {str(device)!r} requested but no CUDA device is available; use 'auto' or 'cpu'")
    return dev


def deterministic_flags() -> dict[str, Any]:
    """The determinism settings of this process as they are now (read from torch, not from the config)."""
    import torch

    return {
        "use_deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cuda_matmul_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    }


def hardware(device="cpu") -> dict[str, Any]:
    """Where a job ran: ``device`` as configured and as resolved (``cuda:N`` kept), the GPU's model,
    CUDA runtime, cuDNN and NVIDIA driver versions (``None`` on the CPU), torch's version and
    :func:`deterministic_flags`."""
    import torch

    dev = resolve_device(device)
    info: dict[str, Any] = {
        "device_requested": str(device), "device": str(dev), "gpu": None, "cuda": None, "cudnn": None,
        "driver": None, "torch": torch.__version__, "deterministic": deterministic_flags(),
    }
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        info.update(device=f"cuda:{index}", gpu=torch.cuda.get_device_name(index), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(), driver=driver_version())
    return info


@functools.lru_cache(maxsize=1)
def driver_version() -> str | None:
    """The NVIDIA driver's version (e.g. '580.65.06'), from nvidia-smi; None when it cannot be read."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return lines[0] if lines else None


def device_note(device) -> str | None:
    """A line for the job log when ``device: auto`` falls back to the CPU (None when it does not): torch
    sees no CUDA device, with the likely reason."""
    if str(device) != "auto":
        return None
    import torch

    if torch.cuda.is_available():
        return None
    if torch.version.cuda is None:
        why = "this torch is a CPU-only build"
    else:
        why = (f"no GPU is visible, or the NVIDIA driver is too old for this torch (built for CUDA "
               f"{torch.version.cuda}; CUDA 13 needs driver >= 580)")
    return f"device: auto runs on the CPU: torch.cuda.is_available() is False ({why})"


def memory_budget_mb(device, memory_mb: float | None = None, default_mb: float = 1024.0,
                     share: float = 0.5) -> float:
    """MiB one chunk of a batched computation may use on ``device``: ``memory_mb`` when given, else
    ``default_mb``; on a CUDA device never more than ``share`` of its free memory now
    (``torch.cuda.mem_get_info``), so a wide layer or a large batch is cut into chunks rather than
    running the GPU out of memory."""
    budget = float(default_mb if memory_mb is None else memory_mb)
    if budget <= 0:
        from .errors import ConfigError

        raise ConfigError(f"memory_mb: must be a positive number, got {memory_mb!r}")
    import torch

    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        budget = min(budget, share * free / 2**20)
    return budget


def check_fits(device, nbytes: float, what: str) -> None:
    """On a CUDA device, a one-line DataError when ``nbytes`` held whole (e.g. a metric's reference traces)
    exceed 90 % of its free memory, instead of an out-of-memory traceback mid-job; nothing on the CPU."""
    import torch

    dev = torch.device(device) if not isinstance(device, torch.device) else device
    if dev.type != "cuda":
        return
    free, _total = torch.cuda.mem_get_info(dev)
    if nbytes > 0.9 * free:
        from .errors import DataError

        raise DataError(f"{what}: {nbytes / 2**20:,.0f} MiB must stay on {dev}, which has {free / 2**20:,.0f} MiB"
                        " free; run it with device: cpu, or read a narrower layer")
