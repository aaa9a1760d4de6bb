"""Adversarial training (Goodfellow, Shlens, Szegedy 2015, "Explaining and harnessing adversarial examples").

For each mini-batch (x_b, y_b), adversarial inputs are crafted on the fly from the
*current* parameters, then the model is updated on
    loss = a * CE(f(x_b), y_b) + (1 - a) * CE(f(x_b_adv), y_b)       (a = ``alpha_mix``, 0.5 in the paper)
with x_b_adv = FGSM(x_b; eps) (the paper) or L-inf PGD(x_b; eps, alpha, ``attack_steps``)
(Madry et al.'s variant), or any attack of the grid passed as ``crafter`` (seed 003's robustness
matrix trains on each DGN's data this way). Adversarial inputs are treated as constants (no gradient
through the attack). With ``x_adv`` the adversarial inputs are not crafted during training but
taken from stored data aligned with ``x`` (seed 003's protocol: its FGSM-, PGD- and DGN-robust models
train on adversarial data made once against the target model, ``x_train_adv.npy`` / ``gen_data.npy``).

Crafting is done with the model in eval mode (dropout off: the attack sees the
deterministic classifier it will be evaluated as) and the update in train mode; the
clean and adversarial halves go through one forward pass, so they share one
dropout draw stream. Seeding as :func:`guided_retraining.training.train`: batch order
from ``torch.Generator(seed)``, dropout masks from a generator seeded ``seed + 1``
(via :func:`guided_retraining.models.set_generator`), PGD random starts from a CPU
generator seeded ``seed + 2``. No global random state is used.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from ..attacks.base import Attack
from ..attacks.fgsm import FGSM
from ..attacks.pgd import PGD
from ..errors import ConfigError, DataError
from ..training import FitContext, History, TrainSettings, fit

ATTACKS = ("fgsm", "pgd")


@dataclass(frozen=True)
class AdversarialTraining:
    """How adversarial inputs are mixed in: the config's ``defences.adversarial_training`` section.

    ``attack``: "fgsm" (``eps``) or "pgd" (L-inf, ``eps``, seeded random start, ``attack_steps`` steps of
    ``attack_alpha``, by default Madry et al.'s 2.5 * eps / attack_steps); ``alpha_mix``: the clean
    loss's weight ``a`` (0.5 in the paper). Bad values are a one-line ConfigError when it is built."""

    attack: str = "fgsm"
    eps: float = 0.05
    alpha_mix: float = 0.5
    attack_steps: int = 10
    attack_alpha: float | None = None

    def __post_init__(self):
        if self.attack not in ATTACKS:
            raise ConfigError(f"adversarial training: attack must be one of {list(ATTACKS)}, got {self.attack!r}")
        if not 0.0 <= self.alpha_mix <= 1.0:
            raise ConfigError(f"adversarial training: alpha_mix must be in [0, 1], got {self.alpha_mix!r}")
        if not self.eps > 0:
            raise ConfigError(f"adversarial training: eps must be > 0, got {self.eps!r}")

    @classmethod
    def from_config(cls, cfg: dict) -> "AdversarialTraining":
        """From the config section (keys left out keep their defaults)."""
        return cls(**{f.name: cfg[f.name] for f in fields(cls) if f.name in cfg})


def adversarial_train(*args, **kwargs) -> list[float]:
    """Train ``model`` in place on clean and on-the-fly adversarial inputs; return each epoch's mean loss
    (:func:`adversarial_fit`'s arguments)."""
    return adversarial_fit(*args, **kwargs).losses


def adversarial_fit(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    settings: TrainSettings,
    seed: int,
    adversarial: AdversarialTraining = AdversarialTraining(),
    context: FitContext = FitContext(label="adversarial training"),
    crafter: Attack | None = None,
    x_adv: np.ndarray | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> History:
    """Train ``model`` in place on clean and on-the-fly adversarial inputs; return its training
    :class:`~guided_retraining.training.History` (mean loss per epoch; with ``validation``, the clean
    validation accuracy per epoch, which ``settings.patience`` watches for early stopping).

    ``adversarial``: the attack crafting the adversarial inputs and the mix (:class:`AdversarialTraining`);
    ``crafter``: an attack object used instead (``adversarial``'s attack, ``eps`` and step settings are
    then ignored); ``x_adv``: stored adversarial inputs, ``x_adv[i]`` the counterpart of ``x[i]`` (no
    crafting at all).
    """
    attack, eps, alpha_mix = adversarial.attack, adversarial.eps, adversarial.alpha_mix
    attack_steps, attack_alpha = adversarial.attack_steps, adversarial.attack_alpha
    if x_adv is not None:
        return _fit_on_stored(model, x, y, x_adv, settings, seed, alpha_mix, context, validation)
    if crafter is not None:
        pass
    elif attack == "fgsm":
        crafter = FGSM(eps=eps)
    else:
        alpha = attack_alpha if attack_alpha is not None else 2.5 * eps / attack_steps
        crafter = PGD(eps=eps, alpha=alpha, steps=attack_steps, random_start=True, seed=int(seed) + 2)
    attack_gen = crafter.make_generator()
    loss_fn = nn.CrossEntropyLoss()

    def mixed_loss(m: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        m.eval()
        xa = crafter.craft(m, xb, yb, attack_gen).detach().clamp(0.0, 1.0)
        m.train()
        logits = m(torch.cat([xb, xa]))
        return alpha_mix * loss_fn(logits[:len(xb)], yb) + (1 - alpha_mix) * loss_fn(logits[len(xb):], yb)

    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int64)
    return fit(model, x, y, settings, seed, context, batch_loss=mixed_loss, validation=validation)


def _fit_on_stored(model: nn.Module, x: np.ndarray, y: np.ndarray, x_adv: np.ndarray, settings: TrainSettings,
                   seed: int, alpha_mix: float, context: FitContext, validation) -> History:
    """Goodfellow's mix with stored adversarial inputs: the batches are drawn as :func:`fit` draws them
    (the same seed gives the same batches; ``validation`` as :func:`fit`'s), each clean input paired with
    its stored counterpart."""
    if x_adv.shape != x.shape:
        raise DataError(f"adversarial training: stored adversarial inputs of shape {x_adv.shape}, "
                         f"expected the training inputs' {x.shape}")
    if settings.augment != "none":
        raise ConfigError("adversarial training on stored adversarial inputs: augment must be none "
                          f"(a clean input and its stored counterpart would be augmented apart), got {settings.augment!r}")
    xa_all = torch.from_numpy(np.ascontiguousarray(x_adv, dtype=np.float32))
    y_all = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    loss_fn = nn.CrossEntropyLoss()

    def stored_loss(m: nn.Module, xb: torch.Tensor, ib: torch.Tensor) -> torch.Tensor:
        ib = ib.cpu()
        yb, xa = y_all[ib].to(xb.device), xa_all[ib].to(xb.device)
        logits = m(torch.cat([xb, xa]))
        return alpha_mix * loss_fn(logits[:len(xb)], yb) + (1 - alpha_mix) * loss_fn(logits[len(xb):], yb)

    x = np.ascontiguousarray(x, dtype=np.float32)
    # the labels' place carries each input's index, so the loss finds its stored counterpart and label
    return fit(model, x, np.arange(len(x), dtype=np.int64), settings, seed, context, batch_loss=stored_loss,
               validation=validation)
