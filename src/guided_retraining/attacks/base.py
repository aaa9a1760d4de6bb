"""One base class for adversarial attacks; one attack per module (as torchattacks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..progress import Progress


@dataclass
class AttackResult:
    """Adversarial inputs and what the attack achieved on them."""

    x_adv: np.ndarray
    success: np.ndarray  # bool: the model's prediction on x_adv differs from the label
    linf: np.ndarray  # per-input L-infinity norm of the perturbation
    l2: np.ndarray  # per-input L2 norm of the perturbation

    def summary(self) -> dict:
        n = len(self.x_adv)

        def stat(a, f):
            return float(f(a)) if n else float("nan")

        return {
            "n": n,
            "success_rate": stat(self.success, np.mean),
            "linf_mean": stat(self.linf, np.mean),
            "linf_max": stat(self.linf, np.max),
            "l2_mean": stat(self.l2, np.mean),
            "l2_max": stat(self.l2, np.max),
        }


class Attack:
    """Base class: subclasses implement :meth:`perturb` on one batch of inputs in [0, 1].

    ``model`` must return logits. The model is put in eval mode; inputs and outputs
    are float32 NCHW in [0, 1].
    """

    name = "attack"

    def __init__(self, **settings):
        self.settings = settings

    def perturb(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def run(
        self,
        model: nn.Module,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 256,
        device: str = "cpu",
        log: logging.Logger | None = None,
        label: str | None = None,
    ) -> AttackResult:
        from ..training import resolve_device

        dev = resolve_device(device)
        model.to(dev).eval()
        progress = Progress(len(x), label or f"{self.name} attack", log)
        advs, succ = [], []
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size])).to(dev)
            yb = torch.from_numpy(np.ascontiguousarray(y[start:start + batch_size])).to(dev)
            adv = self.perturb(model, xb, yb).detach().clamp_(0.0, 1.0)
            with torch.no_grad():
                succ.append((model(adv).argmax(1) != yb).cpu().numpy())
            advs.append(adv.cpu().numpy().astype(np.float32))
            progress.update(len(xb))
        x_adv = np.concatenate(advs) if advs else np.zeros_like(x)
        delta = (x_adv - x).reshape(len(x), -1).astype(np.float64)
        return AttackResult(
            x_adv=x_adv,
            success=np.concatenate(succ) if succ else np.zeros(0, bool),
            linf=np.abs(delta).max(axis=1) if len(x) else np.zeros(0),
            l2=np.sqrt((delta ** 2).sum(axis=1)),
        )
