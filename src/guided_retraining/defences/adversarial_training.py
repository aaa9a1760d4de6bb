"""Adversarial training (Goodfellow, Shlens, Szegedy 2015, "Explaining and harnessing adversarial examples").

For each mini-batch (x_b, y_b), adversarial inputs are crafted on the fly from the
*current* parameters, then the model is updated on
    loss = a * CE(f(x_b), y_b) + (1 - a) * CE(f(x_b_adv), y_b)       (a = ``alpha_mix``, 0.5 in the paper)
with x_b_adv = FGSM(x_b; eps) (the paper) or L-inf PGD(x_b; eps, alpha, ``attack_steps``)
(Madry et al.'s variant). Adversarial inputs are treated as constants (no gradient
through the attack).

Crafting is done with the model in eval mode (dropout off: the attack sees the
deterministic classifier it will be evaluated as) and the update in train mode; the
clean and adversarial halves go through one forward pass, so they share one
dropout draw stream. Seeding as :func:`guided_retraining.training.train`: batch order
from ``torch.Generator(seed)``, dropout masks from a generator seeded ``seed + 1``
(via :func:`guided_retraining.models.set_generator`), PGD random starts from a CPU
generator seeded ``seed + 2``. No global random state is used.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from ..attacks.fgsm import FGSM
from ..attacks.pgd import PGD
from ..errors import ConfigError
from ..models import set_generator
from ..progress import Progress
from ..training import TrainSettings, _device_generator, make_optimizer, resolve_device, shuffled_batches

ATTACKS = ("fgsm", "pgd")


def adversarial_train(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    seed: int,
    attack: str = "fgsm",
    eps: float = 0.05,
    alpha_mix: float = 0.5,
    attack_steps: int = 10,
    attack_alpha: float | None = None,
    device: str = "cpu",
    log: logging.Logger | None = None,
    label: str = "adversarial training",
) -> list[float]:
    """Train ``model`` in place on clean and on-the-fly adversarial inputs; return each epoch's mean loss.

    ``attack``: "fgsm" (``eps``) or "pgd" (L-inf, ``eps``, seeded random start,
    ``attack_steps`` steps of ``attack_alpha``, by default Madry et al.'s 2.5 * eps / attack_steps).
    """
    if attack not in ATTACKS:
        raise ConfigError(f"adversarial training: attack must be one of {list(ATTACKS)}, got {attack!r}")
    if not 0.0 <= alpha_mix <= 1.0:
        raise ConfigError(f"adversarial training: alpha_mix must be in [0, 1], got {alpha_mix!r}")
    if not eps > 0:
        raise ConfigError(f"adversarial training: eps must be > 0, got {eps!r}")
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(int(seed))
    attack_gen = torch.Generator().manual_seed(int(seed) + 2)
    if attack == "fgsm":
        crafter = FGSM(eps=eps)
    else:
        alpha = attack_alpha if attack_alpha is not None else 2.5 * eps / attack_steps
        crafter = PGD(eps=eps, alpha=alpha, steps=attack_steps, random_start=True, seed=int(seed) + 2)
    model.to(dev).train()
    set_generator(model, _device_generator(dev, seed))
    optim = make_optimizer(settings.optimizer, model.parameters(), settings.lr)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    yt = torch.from_numpy(np.ascontiguousarray(y)).long()
    n = len(xt)
    progress = Progress(settings.epochs * -(-n // settings.batch_size), label, log)
    losses = []
    try:
        for _ in range(settings.epochs):
            total = 0.0
            for idx in shuffled_batches(n, settings.batch_size, gen):
                xb, yb = xt[idx].to(dev), yt[idx].to(dev)
                model.eval()
                if attack == "fgsm":
                    xa = crafter.perturb(model, xb, yb)
                else:
                    xa = crafter.perturb(model, xb, yb, generator=attack_gen)
                xa = xa.detach().clamp(0.0, 1.0)
                model.train()
                optim.zero_grad(set_to_none=True)
                logits = model(torch.cat([xb, xa]))
                loss = alpha_mix * loss_fn(logits[:len(idx)], yb) + (1 - alpha_mix) * loss_fn(logits[len(idx):], yb)
                loss.backward()
                optim.step()
                total += float(loss.detach()) * len(idx)
                progress.update()
            losses.append(total / max(n, 1))
    finally:
        set_generator(model, None)
        model.eval()
    return losses
