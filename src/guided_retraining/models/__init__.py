"""CNN architectures of the study and helpers to build them reproducibly."""

from __future__ import annotations

from .layers import init_weights, set_generator
from .user import build_user_model, check_output, is_user_arch
from .zoo import SPECS, SequentialCNN, build

ARCHITECTURES = tuple(SPECS)


def build_model(arch, in_shape, n_classes: int, seed: int | None = None, init: str = "torch"):
    """Build ``arch``; with ``seed``, draw its initial weights (``init`` style, see :func:`init_weights`)
    from a generator seeded with it.

    ``arch`` is a built-in architecture's name or a user's model ``{factory, kwargs, normalize}``
    (:mod:`guided_retraining.models.user`; its output must have at least ``n_classes`` logits; it keeps
    its factory's own initialisation, drawn under ``seed``, so ``init`` does not apply to it).
    """
    import torch

    if is_user_arch(arch):
        return build_checked_user_model(arch, in_shape, n_classes, seed)
    if arch not in SPECS:
        raise KeyError(f"unknown architecture {arch!r}; choose one of {sorted(SPECS)}")
    model = build(arch, tuple(in_shape), int(n_classes))
    if seed is not None:
        init_weights(model, torch.Generator().manual_seed(int(seed)), init)
    return model


def load_model(path, arch, in_shape, n_classes: int):
    """Build ``arch`` and load its weights from ``path`` (``weights_only``; a mismatch is a DataError)."""
    from ..io import load_state_dict

    model = build_model(arch, in_shape, n_classes)
    load_state_dict(path, model)
    return model


def build_checked_user_model(arch: dict, in_shape, n_classes: int, seed: int | None = None):
    """A user's model, checked to map ``in_shape`` images to ``n_classes`` logits."""
    model = build_user_model(arch, seed)
    check_output(model, in_shape, n_classes, "arch", exact=False)
    return model


__all__ = ["ARCHITECTURES", "SequentialCNN", "build_model", "init_weights", "load_model", "set_generator"]
