"""Carlini-Wagner L2 (Carlini, Wagner 2017, arXiv:1608.04644), through torchattacks.

x' = (tanh(w) + 1) / 2, minimising ||x' - x||_2^2 + c * max(Z(x')_y - max_{i != y} Z(x')_i, -kappa)
with Adam (learning rate ``lr``) for ``steps`` steps, Z the logits; per input the
misclassified x' of least L2 distance found so far is returned (x itself when none).
No binary search over c (torchattacks does not implement it). Defaults are
torchattacks': c 1, kappa 0, 50 steps, lr 0.01.

torchattacks 3.5.1 quirks: the start w = atanh(2x - 1) is -inf/+inf for pixels at
exactly 0 or 1, whose gradient is then 0, so those pixels never move (many pixels of
MNIST-like data); the early stop (every steps//10 steps, when the summed loss of the
*batch* rose) makes the result depend on the batch composition, so results depend on
``batch_size``; ``max((1 - onehot) * Z)`` counts the true class as 0 when all other
logits are negative. Deterministic otherwise.
"""

from __future__ import annotations

import torch

from .base import Attack
from .kind import AttackKind


class CW(Attack):
    name = "cw"
    RANGES = {"c": "> 0", "steps": "> 0", "lr": "> 0", "kappa": ">= 0"}

    def __init__(self, c: float = 1.0, kappa: float = 0.0, steps: int = 50, lr: float = 0.01):
        super().__init__(c=float(c), kappa=float(kappa), steps=int(steps), lr=float(lr))
        self.c, self.kappa, self.steps, self.lr = float(c), float(kappa), int(steps), float(lr)

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        import torchattacks

        return torchattacks.CW(model, c=self.c, kappa=self.kappa, steps=self.steps, lr=self.lr)(x, y).detach()


KIND = AttackKind("cw", CW,
                  "Carlini-Wagner L2: Adam on the tanh-space distance plus the margin loss (no norm bound); "
                  "deterministic",
                  "Carlini, Wagner 2017")
