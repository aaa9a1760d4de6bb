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

from .progress import Progress
from .training import resolve_device

LAST_HIDDEN = "last_hidden"


def resolve_layers(model: nn.Module, names) -> list[str]:
    """Replace the alias ``last_hidden`` by the model's last hidden dense layer; check names exist."""
    available = [n for n, _ in model.named_children()]
    out = []
    for name in names:
        real = getattr(model, "last_hidden") if name == LAST_HIDDEN else name
        if real not in available:
            raise KeyError(f"layer {name!r} is not a layer of {getattr(model, 'arch', 'the model')}; layers: {available}")
        if real not in out:
            out.append(real)
    return out


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
    modules = dict(model.named_children())
    captured: dict[str, torch.Tensor] = {}
    hooks = [
        modules[name].register_forward_hook(lambda _m, _i, out, name=name: captured.__setitem__(name, out))
        for name in layers
    ]
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in ["logits", *layers]}
    progress = Progress(len(x), "activations", log)
    try:
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size])).to(dev)
            chunks["logits"].append(model(xb).float().cpu().numpy())
            for name in layers:
                out = captured[name].float()
                if out.ndim == 4:
                    out = out.mean(dim=(2, 3))
                chunks[name].append(out.reshape(len(xb), -1).cpu().numpy())
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
