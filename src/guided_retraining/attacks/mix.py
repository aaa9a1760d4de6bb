"""The replication package's attack mix: one third each of L1-BIM, L2-BIM and FGSM.

The study's notebooks attack one third of the inputs each with foolbox's
L1BasicIterativeAttack (labelled "BIM" there, kind ``l1bim`` here),
L2BasicIterativeAttack (labelled "CW" there, ``l2bim``) and FGSM (``fgsm``), all at
epsilon 0.05 with bounds (0, 1). Here the input indices are permuted with
``np.random.default_rng(seed)`` and cut with ``np.array_split`` into three parts
(sizes differ by at most 1) given to ``l1bim``, ``l2bim`` and ``fgsm`` in that order;
``AttackResult.kinds`` records, per input, the attack it got.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

from .base import Attack, AttackResult
from .fgsm import FGSM
from .kind import AttackKind
from .l1bim import L1BIM
from .l2bim import L2BIM

KINDS = ("l1bim", "l2bim", "fgsm")


class Mix(Attack):
    name = "mix"
    RANGES = {"eps": "> 0", "steps": "> 0"}

    def __init__(self, eps: float = 0.05, steps: int = 10, seed: int = 0):
        super().__init__(eps=float(eps), steps=int(steps), seed=int(seed))
        self.eps, self.steps, self.seed = float(eps), int(steps), int(seed)

    def parts(self) -> dict[str, Attack]:
        return {"l1bim": L1BIM(eps=self.eps, steps=self.steps), "l2bim": L2BIM(eps=self.eps, steps=self.steps),
                "fgsm": FGSM(eps=self.eps)}

    def assign(self, n: int) -> np.ndarray:
        """The attack kind of each of ``n`` inputs (seeded split into thirds)."""
        kinds = np.empty(n, dtype="<U5")
        perm = np.random.default_rng(self.seed).permutation(n)
        for kind, part in zip(KINDS, np.array_split(perm, len(KINDS))):
            kinds[part] = kind
        return kinds

    def perturb(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One batch on its own, split into thirds with :meth:`assign` (``run`` splits the whole set)."""
        kinds = self.assign(len(x))
        adv = x.clone().detach()
        for kind, attack in self.parts().items():
            idx = torch.from_numpy(np.flatnonzero(kinds == kind)).to(x.device)
            if len(idx):
                adv[idx] = attack.perturb(model, x[idx], y[idx]).detach()
        return adv

    def run(self, model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 256, device: str = "cpu",
            log: logging.Logger | None = None, label: str | None = None) -> AttackResult:
        kinds = self.assign(len(x))
        x_adv = np.array(x, dtype=np.float32, copy=True)
        success = np.zeros(len(x), bool)
        linf, l2, l1 = (np.zeros(len(x)) for _ in range(3))
        for kind, attack in self.parts().items():
            idx = np.flatnonzero(kinds == kind)
            if not len(idx):
                continue
            part = attack.run(model, x[idx], y[idx], batch_size, device, log, f"{label or 'mix attack'} [{kind}]")
            x_adv[idx], success[idx] = part.x_adv, part.success
            linf[idx], l2[idx], l1[idx] = part.linf, part.l2, part.l1
        return AttackResult(x_adv=x_adv, success=success, linf=linf, l2=l2, l1=l1, kinds=kinds)


KIND = AttackKind("mix", Mix,
                  "the replication package's mix: a seeded third each of l1bim, l2bim and fgsm",
                  "the study's replication package")
