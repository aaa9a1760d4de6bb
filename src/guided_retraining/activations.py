"""Activations of chosen layers and softmax outputs, computed once per model and input set.

Dense-layer activations are stored as they are (inputs x units); convolutional
activations (inputs x channels x H x W) are averaged over space into inputs x
channels, as surprise adequacy does for convolutional layers (Kim et al. 2019).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from .models import SequentialCNN
from .models.user import layer_names, resolve_layer
from .progress import Progress
from .training import resolve_device

LAST_HIDDEN = "last_hidden"


def resolve_layers(model: nn.Module, names) -> list[str]:
    """Replace the alias ``last_hidden`` by the model's last hidden layer; check names exist.

    Names are module names of ``model.named_modules()`` (``conv1``, ``features.7``) or
    ``NAME.input``, the input of module ``NAME`` (a user's model's ``last_hidden`` is the input of
    its last ``nn.Linear``, see :mod:`guided_retraining.models.user`).
    """
    out = []
    for name in names:
        real = getattr(model, "last_hidden", None) if name == LAST_HIDDEN else name
        try:
            if real is None:
                raise KeyError(name)
            resolve_layer(model, real)
        except KeyError:
            available = [n for n, _ in model.named_children()] if isinstance(model, SequentialCNN) \
                else layer_names(model)
            raise KeyError(f"layer {name!r} is not a layer of {getattr(model, 'arch', 'the model')}; "
                           f"layers: {available}") from None
        if real not in out:
            out.append(real)
    return out


def _flat(t: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C) by the spatial mean; anything else -> (N, units)."""
    t = t.detach().float()
    return (t.mean(dim=(2, 3)) if t.ndim == 4 else t.reshape(len(t), -1)).cpu()


@torch.no_grad()
def extract(
    model: nn.Module,
    x: np.ndarray,
    layers,
    batch_size: int = 512,
    device: str = "cpu",
    log: logging.Logger | None = None,
) -> dict[str, np.ndarray]:
    """Return ``logits`` (N, C, the network's outputs), ``probs`` (N, C: float64 softmax of the logits via
    the log-softmax, :func:`guided_retraining.metrics.uncertainty.probabilities`), ``pred`` (N,) and
    ``layer:<name>`` (N, units) for each layer."""
    from .metrics.uncertainty import probabilities

    dev = resolve_device(device)
    model.to(dev).eval()
    layers = resolve_layers(model, layers)
    captured: dict[str, torch.Tensor] = {}
    hooks = []
    for name in layers:  # reduced at once: a later in-place operation cannot change what was captured
        module, reads_input = resolve_layer(model, name)
        hooks.append(module.register_forward_hook(
            lambda _m, inputs, out, name=name, reads_input=reads_input:
            captured.__setitem__(name, _flat(inputs[0] if reads_input else out))))
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in ["logits", *layers]}
    progress = Progress(len(x), "activations", log)
    try:
        for start in range(0, max(len(x), 1), batch_size):  # an empty x still gives (0, width) arrays
            xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size])).to(dev)
            chunks["logits"].append(model(xb).float().cpu().numpy())
            for name in layers:
                chunks[name].append(captured[name].numpy())
            progress.update(len(xb))
    finally:
        for h in hooks:
            h.remove()
    logits = np.concatenate(chunks["logits"]).astype(np.float32)
    probs = probabilities(logits)
    result = {"logits": logits, "probs": probs, "pred": logits.argmax(axis=1).astype(np.int64)}
    for name in layers:
        result[f"layer:{name}"] = np.concatenate(chunks[name]).astype(np.float32)
    return result
