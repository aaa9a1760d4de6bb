"""foolbox 3's basic iterative method for L1 and L2 (``BaseGradientDescent`` without random start).

For ``steps`` times, with g = grad_x sum_i CE(f(x_t)_i, y_i) (per-input gradients):
  x' = x_t + alpha * g / max(||g||_p, 1e-12)             (foolbox ``normalize_lp_norms``)
  x' = x + (x' - x) * min(1, eps / max(||x' - x||_p, 1e-12))   (``clip_lp_norms``)
  x_{t+1} = clip_[0,1](x')
Norms are per input over all its pixels. Note foolbox's "projection" onto the L1 ball
rescales the perturbation (as for L2); it is not the Euclidean projection onto the
L1 ball, but its result has L1 norm <= eps all the same, and clipping into [0, 1]
only shrinks |x' - x| since x is in [0, 1].
"""

from __future__ import annotations

import torch

from .base import input_grad

TINY = 1e-12


def _lp(t: torch.Tensor, p: int) -> torch.Tensor:
    flat = t.reshape(len(t), -1)
    norms = flat.abs().sum(dim=1) if p == 1 else flat.pow(2).sum(dim=1).sqrt()
    return norms.view(-1, *([1] * (t.dim() - 1)))


def basic_iterative(model, x: torch.Tensor, y: torch.Tensor, eps: float, alpha: float, steps: int, p: int) -> torch.Tensor:
    model.eval()
    x0 = x.clone().detach()
    adv = x0.clone()
    for _ in range(steps):
        g = input_grad(model, adv, y)
        adv = adv + alpha * g / torch.clamp(_lp(g, p), min=TINY)
        delta = adv - x0
        delta = delta * torch.clamp(eps / torch.clamp(_lp(delta, p), min=TINY), max=1.0)
        adv = torch.clamp(x0 + delta, 0.0, 1.0).detach()
    return adv
