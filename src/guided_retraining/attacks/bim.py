"""BIM / I-FGSM, L-infinity (Kurakin, Goodfellow, Bengio 2017, arXiv:1607.02533), through torchattacks.

x_0 = x;  x_{t+1} = clip_[0,1]( clip_[x-eps, x+eps]( x_t + alpha * sign(grad_x CE(f(x_t), y)) ) ),
``steps`` times, f returning logits. No random start: deterministic.
Defaults follow foolbox's iterative attacks: eps 0.05, alpha = 0.2 * eps, 10 steps
(torchattacks' own defaults are eps 8/255, alpha 2/255; its ``steps=0`` picks a step
count from eps, which is refused here).
"""

from __future__ import annotations

import torch

from .base import IterativeAttack
from .kind import AttackKind


class BIM(IterativeAttack):
    name = "bim"

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        import torchattacks

        return torchattacks.BIM(model, eps=self.eps, alpha=self.alpha, steps=self.steps)(x, y)


KIND = AttackKind("bim", BIM,
                  "FGSM steps of size alpha (None: 0.2 * eps), projected into the L-inf eps-ball; deterministic",
                  "Kurakin, Goodfellow, Bengio 2017")
