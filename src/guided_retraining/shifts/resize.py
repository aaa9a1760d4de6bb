"""Resizing image batches for the shifts: bilinear interpolation with antialiasing.

``resize(x, (h, w))`` maps float32 NCHW images in [0, 1] to ``h x w`` with
``torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=True)``:
bilinear interpolation between pixel centres when enlarging, and when shrinking PIL's bilinear
filter widened to the scale factor (each output pixel a triangle-weighted mean of the input pixels
it covers), so a shrunk image does not alias. Deterministic on the CPU.
"""

from __future__ import annotations

import numpy as np


def resize(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``x`` (N, C, H, W) float32 in [0, 1] resized to ``size = (h, w)``; unchanged when it has that size."""
    h, w = int(size[0]), int(size[1])
    if tuple(x.shape[2:]) == (h, w):
        return np.ascontiguousarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, x.shape[1], h, w), np.float32)
    import torch
    from torch.nn.functional import interpolate

    with torch.no_grad():
        out = interpolate(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), size=(h, w),
                          mode="bilinear", align_corners=False, antialias=True)
    return out.clamp_(0.0, 1.0).numpy()
