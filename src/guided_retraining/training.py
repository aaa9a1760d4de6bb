"""Training and evaluation of the CNNs, reproducible without global random state.

The optimiser follows the study's Keras models: RMSprop with Keras' defaults
(learning rate 1e-3, rho 0.9, epsilon 1e-7) and categorical cross-entropy.
Mini-batch order and dropout masks come from one ``torch.Generator`` seeded by
the caller, so the same seed gives the same weights on the CPU even when jobs
run as threads of one process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .models import set_generator
from .progress import Progress

OPTIMIZERS = ("rmsprop", "adam", "sgd")


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "rmsprop"
    lr: float = 1e-3

    @classmethod
    def from_config(cls, cfg: dict) -> "TrainSettings":
        return cls(**{k: cfg[k] for k in ("epochs", "batch_size", "optimizer", "lr") if k in cfg})


def resolve_device(device: str = "cpu") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: 'cuda' requested but no CUDA device is available; use 'auto' or 'cpu'")
    return torch.device(device)


def make_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-7)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"optimizer: expected one of {list(OPTIMIZERS)}, got {name!r}")


def train(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    seed: int,
    device: str = "cpu",
    log: logging.Logger | None = None,
    label: str = "train",
    batch_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """Train ``model`` in place on ``(x, y)``; return the mean loss of each epoch.

    ``batch_loss(model, xb, yb)`` replaces the cross-entropy of each mini-batch (adversarial
    training mixes in adversarial inputs this way). It runs after the gradients are zeroed,
    with the model in train mode, and must leave it in train mode.
    """
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(int(seed))
    model.to(dev).train()
    set_generator(model, _device_generator(dev, seed))
    optim = make_optimizer(settings.optimizer, model.parameters(), settings.lr)
    if batch_loss is None:
        loss_fn = nn.CrossEntropyLoss()

        def batch_loss(m, xb, yb):
            return loss_fn(m(xb), yb)

    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    n = len(xt)
    progress = Progress(settings.epochs * -(-n // settings.batch_size), label, log)
    losses = []
    try:
        for _ in range(settings.epochs):
            total = 0.0
            for idx in shuffled_batches(n, settings.batch_size, gen):
                xb, yb = xt[idx].to(dev), yt[idx].to(dev)
                optim.zero_grad(set_to_none=True)
                loss = batch_loss(model, xb, yb)
                loss.backward()
                optim.step()
                total += float(loss.detach()) * len(idx)
                progress.update()
            losses.append(total / max(n, 1))
    finally:
        set_generator(model, None)
        model.eval()
    return losses


def shuffled_batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """One epoch's mini-batches: a seeded permutation of ``range(n)`` cut into ``batch_size`` pieces."""
    perm = torch.randperm(n, generator=generator)
    return [perm[start:start + batch_size] for start in range(0, n, batch_size)]


def _device_generator(dev: torch.device, seed: int) -> torch.Generator:
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed) + 1)
    return gen


@torch.no_grad()
def predict_logits(model: nn.Module, x: np.ndarray, batch_size: int = 512, device: str = "cpu") -> np.ndarray:
    dev = resolve_device(device)
    model.to(dev).eval()
    out = []
    for start in range(0, len(x), batch_size):
        xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size])).to(dev)
        out.append(model(xb).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512, device: str = "cpu") -> float:
    """Share of ``x`` classified as ``y``."""
    if len(x) == 0:
        return float("nan")
    pred = predict_logits(model, x, batch_size, device).argmax(axis=1)
    return float((pred == y).mean())
