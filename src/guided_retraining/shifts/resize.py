"""Resizing image batches for the shifts (``torch.nn.functional.interpolate``; deterministic on the CPU).

``resize(x, (h, w), mode)`` maps float32 NCHW images in [0, 1] to ``h x w``:

* ``bilinear`` (default): ``mode="bilinear", align_corners=False, antialias=True``: bilinear
  interpolation between pixel centres when enlarging; when shrinking, PIL's bilinear filter widened
  to the scale factor (each output pixel a triangle-weighted mean of the input pixels it covers), so a
  shrunk image does not alias. The same numbers as PIL's ``Image.resize(..., BILINEAR)`` on float images.
* ``nearest``: each pixel repeated (for a whole factor k, a k x k block);
* ``area``: each output pixel the mean of the input pixels it covers (for a whole factor, a k x k block).
  ``nearest`` then ``area`` by the same whole factor gives the image back (up to float32 rounding, < 1e-6).
"""

from __future__ import annotations

import numpy as np


def resize(x: np.ndarray, size: tuple[int, int], mode: str = "bilinear") -> np.ndarray:
    """``x`` (N, C, H, W) float32 in [0, 1] resized to ``size = (h, w)`` by ``mode`` (bilinear, nearest, area);
    unchanged when it has that size."""
    h, w = int(size[0]), int(size[1])
    if tuple(x.shape[2:]) == (h, w):
        return np.ascontiguousarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, x.shape[1], h, w), np.float32)
    import torch
    from torch.nn.functional import interpolate

    with torch.no_grad():
        kwargs = {"align_corners": False, "antialias": True} if mode == "bilinear" else {}
        out = interpolate(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), size=(h, w), mode=mode,
                          **kwargs)
    return out.clamp_(0.0, 1.0).numpy()
