"""L1 Basic Iterative Method as foolbox 3's ``L1BasicIterativeAttack`` (labelled "BIM" in the study's notebooks).

x_0 = x;  g = grad_x CE(f(x_t), y);  x' = x_t + alpha * g / ||g||_1;
x' = x + (x' - x) * min(1, eps / ||x' - x||_1);  x_{t+1} = clip_[0,1](x').
Deterministic. Defaults are foolbox's: eps 0.05 (the study's), rel_stepsize 0.2
(alpha = 0.2 * eps), 10 steps. torchattacks has no L1 attack, so it is implemented here
(see ``_foolbox.basic_iterative``).
"""

from __future__ import annotations

import torch

from ._foolbox import basic_iterative
from .base import IterativeAttack
from .kind import AttackKind


class L1BIM(IterativeAttack):
    name = "l1bim"
    norm = 1

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return basic_iterative(model, x, y, self.eps, self.alpha, self.steps, p=self.norm)


KIND = AttackKind("l1bim", L1BIM,
                  "foolbox's L1 basic iterative attack (the study's 'BIM'): L1 <= eps, alpha None: 0.2 * eps;"
                  " deterministic",
                  "foolbox 3 (the study's notebooks)")
