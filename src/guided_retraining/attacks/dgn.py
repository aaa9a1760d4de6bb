"""DGN: seed 003's (DeepCustom) data generator networks as an attack of the grid.

The attack's whole configuration (``attacks.NAME: {kind: dgn, ...}``) is one
:class:`~guided_retraining.deepcustom.generators.DGNSettings`, with the defaults and types of its fields, so
config checks can validate it before any job. The
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

from dataclasses import asdict, fields

import torch

from ..deepcustom.generators import DGNSettings
from .base import Attack
from .kind import AttackKind


class DGN(Attack):
    """The attack of a ``kind: dgn`` config entry; its settings are one :class:`DGNSettings` (the entry less
    ``kind``), whose fields, defaults and checks are the attack's allowed settings."""

    name = "dgn"
    RANGES = DGNSettings.RANGES

    def __init__(self, settings: DGNSettings = DGNSettings()):
        super().__init__(**asdict(settings))
        self.config = settings
        self.generators: list | None = None

    @classmethod
    def setting_defaults(cls) -> dict:
        return {f.name: f.default for f in fields(DGNSettings)}

    @classmethod
    def build(cls, settings: dict) -> "DGN":
        return cls(DGNSettings(**settings))

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
        self.generators, losses = fit_generators(target, x, y, n_classes, self.config, masks, device, log)
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
