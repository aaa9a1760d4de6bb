"""CNN architectures of the study and helpers to build them reproducibly."""

from __future__ import annotations

from .layers import init_weights, set_generator
from .zoo import SPECS, SequentialCNN, build

ARCHITECTURES = tuple(SPECS)


def build_model(arch: str, in_shape, n_classes: int, seed: int | None = None, init: str = "torch") -> SequentialCNN:
    """Build ``arch``; with ``seed``, draw its initial weights (``init`` style, see :func:`init_weights`)
    from a generator seeded with it."""
    import torch

    if arch not in SPECS:
        raise KeyError(f"unknown architecture {arch!r}; choose one of {sorted(SPECS)}")
    model = build(arch, tuple(in_shape), int(n_classes))
    if seed is not None:
        init_weights(model, torch.Generator().manual_seed(int(seed)), init)
    return model


def load_model(path, arch: str, in_shape, n_classes: int) -> SequentialCNN:
    """Build ``arch`` and load its weights from ``path`` (``weights_only``; a mismatch is a DataError)."""
    from ..io import load_state_dict

    model = build_model(arch, in_shape, n_classes)
    load_state_dict(path, model)
    return model


__all__ = ["ARCHITECTURES", "SequentialCNN", "build_model", "init_weights", "load_model", "set_generator"]
