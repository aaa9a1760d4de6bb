"""DGN: seed 003's (DeepCustom) data generator networks as an attack of the grid.

The settings below are the attack's whole configuration (``attacks.NAME: {kind: dgn, ...}``), with
their defaults and types in the signature, so config checks can validate them before any job. The
generators are trained once per dataset and setting by their own rule (:meth:`DGN.fit`, see
:mod:`guided_retraining.deepcustom.generators` for the networks, losses and formulas) and loaded
with :meth:`DGN.use`; :meth:`perturb` then applies each input's class generator and projects the
output into the eps-ball and [0, 1]. The target model is fixed at training time: ``perturb``'s
``model`` argument is not used (the generated data is the same whichever model it is shown to).
``mis_classification_check: true`` keeps only the Adv.Train inputs that fool the target (as
``keep_successful``). ``coverage_weight`` (loss ``nce`` only, default 0: the seed's NCE, equal to its
original loss) is the project's neuron-coverage term; ``suspicious_reduction`` (``seed`` or the
project's earlier ``mean``) how the suspiciousness loss reduces its terms.
"""

from __future__ import annotations

import torch

from .base import Attack, check_positive
from .kind import AttackKind


class DGN(Attack):
    name = "dgn"

    def __init__(self, loss: str = "original", epsilon: float = 0.3, custom_loss_constant: float = 0.5,
                 clipping: bool = True, mis_classification_check: bool = False, k: int = 20, epochs: int = 150, batch_size: int = 100, lr: float = 1e-4,
                 decay_step: int = 1000, decay_rate: float = 0.9, suspicious_weight: float = 0.5,
                 normal_weight: float = 0.5, suspicious_reduction: str = "seed", coverage_weight: float = 0.0,
                 seed: int = 0):
        from ..deepcustom.generators import LOSSES, SUSPICIOUS_REDUCTIONS

        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if suspicious_reduction not in SUSPICIOUS_REDUCTIONS:
            raise ValueError(f"suspicious_reduction must be one of {', '.join(SUSPICIOUS_REDUCTIONS)}, "
                             f"got {suspicious_reduction!r}")
        if coverage_weight < 0:
            raise ValueError(f"coverage_weight must be >= 0, got {coverage_weight!r}")
        if coverage_weight and loss != "nce":
            raise ValueError(f"coverage_weight applies to loss nce only (the project's coverage term), got loss {loss!r}")
        check_positive(epsilon=epsilon, k=k, epochs=epochs, batch_size=batch_size, lr=lr, decay_step=decay_step,
                       decay_rate=decay_rate)
        if not 0.0 <= custom_loss_constant <= 1.0:
            raise ValueError(f"custom_loss_constant must be in [0, 1], got {custom_loss_constant!r}")
        super().__init__(loss=loss, epsilon=float(epsilon), custom_loss_constant=float(custom_loss_constant),
                         clipping=bool(clipping), mis_classification_check=bool(mis_classification_check), k=int(k),
                         epochs=int(epochs),
                         batch_size=int(batch_size), lr=float(lr), decay_step=int(decay_step),
                         decay_rate=float(decay_rate), suspicious_weight=float(suspicious_weight),
                         normal_weight=float(normal_weight), suspicious_reduction=suspicious_reduction,
                         coverage_weight=float(coverage_weight), seed=int(seed))
        self.generators: list | None = None

    def fit(self, target, x, y, n_classes: int, suspicious_scores=None, device: str = "cpu", log=None):
        """Train one generator per class against ``target`` on ``(x, y)``; returns each class's epoch losses.
        ``suspicious_scores``: Tarantula scores {layer: (C, units)} (loss ``suspiciousness`` only)."""
        from ..deepcustom import relevance, suspiciousness
        from ..deepcustom.generators import fit_generators

        s = self.settings
        masks = None
        if s["loss"] == "lrp":
            masks = relevance.relevant_pixels(relevance.class_relevance(target, x, y, n_classes), s["k"])
        elif s["loss"] == "suspiciousness":
            if suspicious_scores is None:
                raise ValueError("dgn: the suspiciousness loss needs the Tarantula scores of the target's neurons")
            masks = suspiciousness.suspicious_masks(suspicious_scores, s["k"])
        self.generators, losses = fit_generators(target, x, y, n_classes, s, s["seed"], masks, device, log)
        return losses

    def use(self, generators) -> "DGN":
        self.generators = generators
        return self

    def perturb(self, model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        from ..deepcustom.generators import generate

        if self.generators is None:
            raise RuntimeError("dgn: no generators; train them with fit() or load them with use()")
        return generate(self.generators, x, y, self.settings["epsilon"], self.settings["clipping"])


KIND = AttackKind("dgn", DGN,
                  "DeepCustom's data generator networks, one per class, trained against the original model",
                  "seed 003 (DeepCustom)", uses=("grid",), needs_generators=True)
