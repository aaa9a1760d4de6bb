"""PGD, L2 (Madry et al. 2018, arXiv:1706.06083), seeded.

Random start (with ``random_start``): delta = eps * r * d / ||d||_2 with d ~ N(0, I) and
r ~ U(0, 1) per input, x_0 = clip_[0,1](x + delta).  Steps:
g = grad_x CE(f(x_t), y);  x' = x_t + alpha * g / (||g||_2 + 1e-10);
delta = (x' - x) * min(1, eps / ||x' - x||_2);  x_{t+1} = clip_[0,1](x + delta).

The loop is torchattacks.PGDL2's (3.5.1) line for line, except the random start,
which comes from a ``torch.Generator`` seeded with ``seed`` instead of the global RNG.
With ``random_start=False`` it equals torchattacks.PGDL2 bit for bit (tested).
Defaults: eps 0.05 (L2), alpha = 0.2 * eps, 10 steps, random start.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import Attack, check_positive, default_alpha


def l2_start(x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
    n = len(x)
    delta = torch.empty(x.shape, dtype=x.dtype).normal_(generator=generator)
    norms = delta.view(n, -1).norm(p=2, dim=1).view(n, *([1] * (x.dim() - 1)))
    r = torch.empty(norms.shape, dtype=x.dtype).uniform_(0, 1, generator=generator)
    delta = (delta * (r / norms * eps)).to(x.device)
    return torch.clamp(x + delta, min=0, max=1).detach()


class PGDL2(Attack):
    name = "pgdl2"
    randomized = True

    def __init__(self, eps: float = 0.05, alpha: float | None = None, steps: int = 10, random_start: bool = True,
                 seed: int = 0):
        alpha = default_alpha(eps, alpha)
        check_positive(self.name, eps=eps, alpha=alpha, steps=steps)
        super().__init__(eps=float(eps), alpha=alpha, steps=int(steps), random_start=bool(random_start), seed=int(seed))
        self.eps, self.alpha, self.steps, self.random_start = float(eps), alpha, int(steps), bool(random_start)
        self.eps_for_division = 1e-10

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if generator is None:
            generator = self.make_generator()
        model.eval()
        images = x.clone().detach()
        labels = y.clone().detach()
        loss = nn.CrossEntropyLoss()
        n = len(images)
        shape = (-1, *([1] * (images.dim() - 1)))
        adv = l2_start(images, self.eps, generator) if self.random_start else images.clone().detach()
        for _ in range(self.steps):
            adv.requires_grad = True
            cost = loss(model(adv), labels)
            grad = torch.autograd.grad(cost, adv, retain_graph=False, create_graph=False)[0]
            grad_norms = torch.norm(grad.view(n, -1), p=2, dim=1) + self.eps_for_division
            grad = grad / grad_norms.view(shape)
            adv = adv.detach() + self.alpha * grad
            delta = adv - images
            delta_norms = torch.norm(delta.view(n, -1), p=2, dim=1)
            factor = torch.min(self.eps / delta_norms, torch.ones_like(delta_norms))
            delta = delta * factor.view(shape)
            adv = torch.clamp(images + delta, min=0, max=1).detach()
        return adv
