"""PGD, L-infinity (Madry et al. 2018, arXiv:1706.06083), seeded.

x_0 = clip_[0,1](x + U(-eps, eps)) with ``random_start`` (else x);
x_{t+1} = clip_[0,1]( x + clip_[-eps, eps]( x_t + alpha * sign(grad_x CE(f(x_t), y)) - x ) ).

The loop is torchattacks.PGD's (3.5.1) step for step, except the random start:
torchattacks draws it from torch's global RNG, which threads of one process share,
so here it comes from a ``torch.Generator`` seeded with ``seed`` (drawn on the CPU,
then moved to the input's device). With ``random_start=False`` the result equals
``torchattacks.PGD(..., random_start=False)`` bit for bit (tested).
Defaults: eps 0.05, alpha = 0.2 * eps (foolbox's rel_stepsize), 10 steps, random start.
``restarts`` > 1 (random start only) runs the loop from that many random starts and keeps, per
input, the first run that fools the model, else the last (ART's ``num_random_init``; seed 003
evaluates MNIST with 10 restarts x 20 steps).
"""

from __future__ import annotations

import torch
from torch import nn

from .base import IterativeAttack
from .kind import AttackKind


def uniform_start(x: torch.Tensor, eps: float, generator: torch.Generator | None) -> torch.Tensor:
    noise = torch.empty(x.shape, dtype=x.dtype).uniform_(-eps, eps, generator=generator).to(x.device)
    return torch.clamp(x + noise, min=0, max=1).detach()


class PGD(IterativeAttack):
    name = "pgd"
    randomized = True
    RANGES = {"eps": "> 0", "alpha": "> 0", "steps": "> 0", "restarts": ">= 1"}

    def __init__(self, eps: float = 0.05, alpha: float | None = None, steps: int = 10, random_start: bool = True,
                 seed: int = 0, restarts: int = 1):
        if int(restarts) < 1 or (int(restarts) > 1 and not random_start):
            raise ValueError(f"restarts must be >= 1 (and 1 without random_start), got {restarts!r}")
        more = {"restarts": int(restarts)} if int(restarts) > 1 else {}
        self._set_steps(eps, alpha, steps, random_start=bool(random_start), seed=int(seed), **more)
        self.random_start = bool(random_start)
        self.restarts = int(restarts)

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if generator is None:
            generator = self.make_generator()
        best = self._run(model, x, y, generator)
        for _ in range(self.restarts - 1):
            with torch.no_grad():
                fooled = model(best).argmax(1) != y
            if bool(fooled.all()):
                break
            again = self._run(model, x, y, generator)
            best = torch.where(fooled.view(-1, *[1] * (x.ndim - 1)), best, again)
        return best

    def _run(self, model, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        model.eval()
        images = x.clone().detach()
        labels = y.clone().detach()
        loss = nn.CrossEntropyLoss()
        adv = self.start(images, generator) if self.random_start else images.clone().detach()
        for _ in range(self.steps):
            adv.requires_grad = True
            cost = loss(model(adv), labels)
            grad = torch.autograd.grad(cost, adv, retain_graph=False, create_graph=False)[0]
            adv = self.step(images, adv.detach(), grad).detach()
        return adv

    def start(self, images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return uniform_start(images, self.eps, generator)

    def step(self, images: torch.Tensor, adv: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        adv = adv + self.alpha * grad.sign()
        delta = torch.clamp(adv - images, min=-self.eps, max=self.eps)
        return torch.clamp(images + delta, min=0, max=1)


KIND = AttackKind("pgd", PGD,
                  "BIM from a seeded uniform random start in the L-inf eps-ball (alpha None: 0.2 * eps; "
                  "restarts optional)",
                  "Madry et al. 2018")
