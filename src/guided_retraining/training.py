"""Training and evaluation of the CNNs, reproducible without global random state.

The optimiser follows the study's Keras models: RMSprop with Keras' defaults
(learning rate 1e-3, rho 0.9, epsilon 1e-7) and categorical cross-entropy.
Mini-batch order and dropout masks come from one ``torch.Generator`` seeded by
the caller, so the same seed gives the same weights on the CPU even when jobs
run as threads of one process.

Options beyond the study's (all off by default): ``weight_decay`` (Adam/RMSprop/SGD's L2
term), ``augment: crop_flip`` (random 4-pixel-padded crop and horizontal flip, the usual
CIFAR-10 augmentation, as run 004 used), ``patience`` (early stopping on validation
accuracy: stop after that many epochs without improvement and keep the best epoch's
weights; ``epochs`` is then the maximum) and ``min_steps`` (train at least that many
mini-batch steps, so reduced datasets still get the optimiser steps a deep model needs) and a staircase
exponential learning-rate decay, lr_t = lr * decay_rate^floor(t / decay_step) after t mini-batch steps
(TensorFlow's ``exponential_decay(..., staircase=True)``; seed 003's ``adv_decay_step`` / ``adv_decay_rate``;
``decay_step`` 0, the default, keeps the rate constant).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from .hardware import resolve_device  # noqa: F401  (the device resolver lives in hardware; re-exported)
from .models import set_generator
from .progress import Progress

OPTIMIZERS = ("rmsprop", "adam", "sgd")


AUGMENTATIONS = ("none", "crop_flip")


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 10
    batch_size: int = 64
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    weight_decay: float = 0.0
    augment: str = "none"
    patience: int | None = None
    min_steps: int = 0
    init: str = "torch"
    decay_step: int = 0
    decay_rate: float = 1.0

    @classmethod
    def from_config(cls, cfg: dict) -> "TrainSettings":
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg})

    def epochs_for(self, n: int) -> int:
        """Epochs to run on ``n`` inputs: ``epochs``, raised to reach ``min_steps`` mini-batch steps."""
        per_epoch = max(-(-n // self.batch_size), 1)
        return max(self.epochs, -(-int(self.min_steps) // per_epoch))


@dataclass
class History:
    """What :func:`fit` did: mean training loss, validation accuracy and validation loss (mean
    cross-entropy) per epoch, the epoch whose weights were kept (1-based; the last one unless early
    stopping restored a better one)."""

    losses: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    steps: int = 0

    def as_dict(self) -> dict:
        return {"losses": self.losses, "val_acc": self.val_acc, "val_loss": self.val_loss, "best_epoch": self.best_epoch,
                "epochs_run": len(self.losses), "stopped_early": self.stopped_early, "steps": self.steps}


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-7, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    raise ValueError(f"optimizer: expected one of {list(OPTIMIZERS)}, got {name!r}")


@dataclass(frozen=True)
class FitContext:
    """Where a training runs and how it reports: the device (``cpu``, ``cuda``, ``auto``: see
    :func:`resolve_device`), the job's log and the label of its progress and log lines."""

    device: str = "cpu"
    log: logging.Logger | None = None
    label: str = "train"


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, settings: TrainSettings, seed: int, *args,
          **kwargs) -> list[float]:
    """Train ``model`` in place on ``(x, y)``; return the mean loss of each epoch (:func:`fit`'s arguments)."""
    return fit(model, x, y, settings, seed, *args, **kwargs).losses


def fit(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    seed: int,
    context: FitContext = FitContext(),
    batch_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    batch_size_eval: int = 512,
) -> History:
    """Train ``model`` in place on ``(x, y)`` on ``context.device``, reporting to ``context.log`` under
    ``context.label``; return its :class:`History`.

    With ``validation = (x_val, y_val)`` the accuracy on it is logged and recorded after each
    epoch; with ``settings.patience`` too, training stops after ``patience`` epochs without a
    better validation accuracy and the best epoch's weights are restored. ``patience`` without
    validation inputs cannot apply: a one-line ConfigError before any step (never skipped silently).

    ``batch_loss(model, xb, yb)`` replaces the cross-entropy of each mini-batch (adversarial
    training mixes in adversarial inputs this way). It runs after the gradients are zeroed,
    with the model in train mode, and must leave it in train mode.
    """
    if settings.augment not in AUGMENTATIONS:
        raise ValueError(f"augment: expected one of {list(AUGMENTATIONS)}, got {settings.augment!r}")
    device, log, label = context.device, context.log, context.label
    if settings.patience is not None and (validation is None or len(validation[1]) == 0):
        from .errors import ConfigError

        raise ConfigError(f"train.patience: {label}: early stopping ({settings.patience} epochs) watches validation"
                          " accuracy, but no validation inputs were given; give the split a validation share or"
                          " leave patience out")
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(int(seed))
    model.to(dev).train()
    set_generator(model, _device_generator(dev, seed))
    optim = make_optimizer(settings.optimizer, model.parameters(), settings.lr, settings.weight_decay)
    sched = None
    if settings.decay_step > 0:
        sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda t: settings.decay_rate ** (t // settings.decay_step))
    if batch_loss is None:
        loss_fn = nn.CrossEntropyLoss()

        def batch_loss(m, xb, yb):
            return loss_fn(m(xb), yb)

    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    n = len(xt)
    epochs = settings.epochs_for(n)
    progress = Progress(epochs * -(-n // settings.batch_size), label, log)
    history, best_state, best_acc = History(), None, -1.0
    try:
        for epoch in range(1, epochs + 1):
            total = 0.0
            for idx in shuffled_batches(n, settings.batch_size, gen):
                xb, yb = xt[idx], yt[idx].to(dev)
                if settings.augment == "crop_flip":
                    xb = crop_flip(xb, gen)
                xb = xb.to(dev)
                optim.zero_grad(set_to_none=True)
                loss = batch_loss(model, xb, yb)
                loss.backward()
                optim.step()
                if sched is not None:
                    sched.step()
                total += float(loss.detach()) * len(idx)
                history.steps += 1
                progress.update()
            history.losses.append(total / max(n, 1))
            if validation is None:
                continue
            acc, val_loss = accuracy_and_loss(model, validation[0], validation[1], batch_size_eval, device)
            model.train()
            history.val_acc.append(acc)
            history.val_loss.append(val_loss)
            if log is not None:
                log.info("%s: epoch %d/%d, loss %.4f, validation accuracy %.4f (loss %.4f)", label, epoch, epochs,
                         history.losses[-1], acc, val_loss)
            if settings.patience is None:
                continue
            if acc > best_acc:
                best_acc, history.best_epoch = acc, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            elif epoch - history.best_epoch >= settings.patience:
                history.stopped_early = True
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            history.best_epoch = len(history.losses)
    finally:
        set_generator(model, None)
        model.eval()
    return history


def crop_flip(xb: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop of the ``pad``-pixel zero-padded images and random horizontal flip (per image)."""
    n, _, h, w = xb.shape
    padded = nn.functional.pad(xb, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    out = torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    out[flip] = out[flip].flip(-1)
    return out


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


def accuracy_and_loss(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512,
                      device: str = "cpu") -> tuple[float, float]:
    """Share of ``x`` classified as ``y`` and the mean cross-entropy loss (nats) on it."""
    if len(x) == 0:
        return float("nan"), float("nan")
    logits = torch.from_numpy(predict_logits(model, x, batch_size, device))
    target = torch.from_numpy(np.asarray(y, dtype=np.int64))
    loss = float(nn.functional.cross_entropy(logits.double(), target))
    return float((logits.argmax(1) == target).double().mean()), loss
