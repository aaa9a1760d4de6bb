"""FGSM (Goodfellow, Shlens, Szegedy 2015), through torchattacks.

x_adv = clip_[0,1](x + eps * sign(grad_x CE(f(x), y))), with f returning logits.
"""

from __future__ import annotations

import torch

from .base import Attack
from .kind import AttackKind


class FGSM(Attack):
    name = "fgsm"
    RANGES = {"eps": "> 0"}

    def __init__(self, eps: float = 0.05):
        super().__init__(eps=eps)
        self.eps = float(eps)

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        import torchattacks

        return torchattacks.FGSM(model, eps=self.eps)(x, y)


KIND = AttackKind("fgsm", FGSM,
                  "one signed-gradient step: L-inf <= eps; deterministic",
                  "Goodfellow, Shlens, Szegedy 2015")
