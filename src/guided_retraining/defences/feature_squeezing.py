"""Feature squeezing by median smoothing (Xu, Evans, Qi 2018, "Feature Squeezing", NDSS).

``median_filter(x, size)`` filters each channel of an NCHW batch with a ``size`` x
``size`` median window, exactly as ``scipy.ndimage.median_filter(x, size=(1, 1, size,
size), mode="reflect")`` (the EvadeML-Zoo implementation; 2x2 is their MNIST
setting):

- padding "reflect" in scipy's sense, i.e. the edge pixel repeated (d c b a | a b c d);
- the window of output pixel i covers offsets -(size // 2) .. size - 1 - size // 2
  (for size 2: rows i-1, i and columns j-1, j);
- with an even number of values the median is the *upper* middle value (scipy's
  rank filter at rank size*size // 2), not their mean nor torch.median's lower one.

It is written in torch (index padding, ``unfold`` and ``kthvalue`` on the CPU, a stable sort on CUDA), so gradients flow
through it (to the selected pixel), and attacks such as torchattacks' can run against
a :class:`MedianFilterModel`. NumPy inputs give NumPy outputs.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from ..training import FitContext, TrainSettings, fit


def _symmetric_index(n: int, before: int, after: int, device) -> torch.Tensor:
    i = torch.arange(-before, n + after, device=device)
    i = torch.where(i < 0, -i - 1, i)
    i = torch.where(i >= n, 2 * n - 1 - i, i)
    return i.clamp(0, n - 1)  # windows wider than twice the image: repeat the edge


def _median_torch(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.dim() != 4:
        raise ValueError(f"median_filter: expected an NCHW batch, got shape {tuple(x.shape)}")
    if size == 1:
        return x
    before, after = size // 2, size - 1 - size // 2
    h, w = x.shape[2], x.shape[3]
    xp = x[:, :, _symmetric_index(h, before, after, x.device)][:, :, :, _symmetric_index(w, before, after, x.device)]
    windows = xp.unfold(2, size, 1).unfold(3, size, 1)  # (N, C, H, W, size, size)
    windows = windows.reshape(*windows.shape[:4], size * size)
    return _upper_median(windows, by_sort=x.device.type != "cpu")


def _upper_median(windows: torch.Tensor, by_sort: bool) -> torch.Tensor:
    """The upper middle value of the last axis: ``kthvalue`` on the CPU; on CUDA (``by_sort``), where
    kthvalue has no deterministic kernel (it raises under torch.use_deterministic_algorithms), a stable sort,
    same values (ties: the gradient goes to the first of the tied window positions)."""
    rank = windows.shape[-1] // 2  # 0-based
    if not by_sort:
        return windows.kthvalue(rank + 1, dim=-1).values
    return windows.sort(dim=-1, stable=True).values[..., rank]


def median_filter(x, size: int = 2, batch_size: int = 4096):
    """Median smoothing of an NCHW float batch (torch tensor or NumPy array); see the module docstring."""
    size = int(size)
    if size < 1:
        raise ValueError(f"median_filter: size must be >= 1, got {size}")
    if isinstance(x, torch.Tensor):
        return _median_torch(x, size)
    arr = np.asarray(x)
    out = np.empty(arr.shape, dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(arr), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(arr[start:start + batch_size], dtype=np.float32))
            out[start:start + batch_size] = _median_torch(chunk, size).numpy()
    return out


class MedianFilterModel(nn.Module):
    """``model`` applied to median-filtered inputs: logits = model(median_filter(x, size))."""

    def __init__(self, model: nn.Module, size: int = 2):
        super().__init__()
        if int(size) < 1:
            raise ValueError(f"MedianFilterModel: size must be >= 1, got {size}")
        self.model = model
        self.size = int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(_median_torch(x, self.size))

    def extra_repr(self) -> str:
        return f"size={self.size}"


def train_squeezed(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    seed: int,
    size: int = 2,
    device: str = "cpu",
    log: logging.Logger | None = None,
    label: str = "train on median-filtered inputs",
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> MedianFilterModel:
    """Train ``model`` in place on median-filtered ``x`` (as the defence study did) and return it wrapped.

    Same seeding as :func:`guided_retraining.training.train`. ``validation`` (clean images) is
    filtered too, so early stopping (``settings.patience``) watches the accuracy of the defended
    classifier, filter included. The training history is on the returned wrapper as ``.history``
    (:class:`~guided_retraining.training.History`), its per-epoch losses as ``.losses``.
    """
    if validation is not None:
        validation = (median_filter(validation[0], size), validation[1])
    history = fit(model, median_filter(x, size), y, settings, seed, FitContext(device, log, label),
                  validation=validation)
    wrapped = MedianFilterModel(model, size)
    wrapped.history, wrapped.losses = history, history.losses
    wrapped.eval()
    return wrapped
