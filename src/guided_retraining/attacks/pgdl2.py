"""PGD, L2 (Madry et al. 2018, arXiv:1706.06083), seeded.

Random start (with ``random_start``): delta = eps * r * d / ||d||_2 with d ~ N(0, I) and
r ~ U(0, 1) per input, x_0 = clip_[0,1](x + delta).  Steps:
g = grad_x CE(f(x_t), y);  x' = x_t + alpha * g / (||g||_2 + 1e-10);
delta = (x' - x) * min(1, eps / ||x' - x||_2);  x_{t+1} = clip_[0,1](x + delta).

The loop is torchattacks.PGDL2's (3.5.1) step for step, except the random start,
which comes from a ``torch.Generator`` seeded with ``seed`` instead of the global RNG.
With ``random_start=False`` it equals torchattacks.PGDL2 bit for bit (tested).
Defaults: eps 0.05 (L2), alpha = 0.2 * eps, 10 steps, random start.
"""

from __future__ import annotations

import torch

from .kind import AttackKind
from .pgd import PGD


def l2_start(x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
    n = len(x)
    delta = torch.empty(x.shape, dtype=x.dtype).normal_(generator=generator)
    norms = delta.view(n, -1).norm(p=2, dim=1).view(n, *([1] * (x.dim() - 1)))
    r = torch.empty(norms.shape, dtype=x.dtype).uniform_(0, 1, generator=generator)
    delta = (delta * (r / norms * eps)).to(x.device)
    return torch.clamp(x + delta, min=0, max=1).detach()


class PGDL2(PGD):
    """PGD's loop (:meth:`PGD.perturb`) with the L2 start and step."""

    name = "pgdl2"
    eps_for_division = 1e-10

    def start(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return l2_start(images, self.eps, generator)

    def step(self, images: torch.Tensor, adv: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        n = len(images)
        shape = (-1, *([1] * (images.dim() - 1)))
        grad_norms = torch.norm(grad.view(n, -1), p=2, dim=1) + self.eps_for_division
        grad = grad / grad_norms.view(shape)
        adv = adv + self.alpha * grad
        delta = adv - images
        delta_norms = torch.norm(delta.view(n, -1), p=2, dim=1)
        factor = torch.min(self.eps / delta_norms, torch.ones_like(delta_norms))
        delta = delta * factor.view(shape)
        return torch.clamp(images + delta, min=0, max=1)


KIND = AttackKind("pgdl2", PGDL2,
                  "PGD in the L2 eps-ball, from a seeded random start (alpha None: 0.2 * eps)",
                  "Madry et al. 2018")
