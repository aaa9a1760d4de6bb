"""Adversarial attacks: one module per attack, one base class (:class:`Attack`).

``make_attack(kind, seed=None, **settings)`` builds one from config settings; unknown
settings raise :class:`~guided_retraining.errors.ConfigError` naming the allowed keys.
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import Attack, AttackResult, SoftmaxAsLogits, filter_successful, perturbation_norms
from .bim import BIM
from .cw import CW
from .deepfool import DeepFool
from .dgn import DGN
from .fgsm import FGSM
from .l1bim import L1BIM
from .l2bim import L2BIM
from .mix import Mix
from .pgd import PGD
from .pgdl2 import PGDL2

ATTACKS: dict[str, type[Attack]] = {
    "fgsm": FGSM,
    "bim": BIM,
    "pgd": PGD,
    "pgdl2": PGDL2,
    "deepfool": DeepFool,
    "cw": CW,
    "l1bim": L1BIM,
    "l2bim": L2BIM,
    "mix": Mix,
    "dgn": DGN,
}


#: keys of a config attack entry that are the workflow's, not the attack's own settings
WORKFLOW_KEYS = ("kind", "keep_successful", "softmax_as_logits", "adv_test")


def attack_settings(entry: dict) -> dict:
    """The attack's own settings of a config entry (``kind`` and the workflow's keys left out)."""
    return {k: v for k, v in entry.items() if k not in WORKFLOW_KEYS}


def make_attack(kind: str, seed: int | None = None, **settings) -> Attack:
    """Attack ``kind`` with ``settings``; ``seed`` goes to attacks with random parts and is ignored by the others."""
    if kind not in ATTACKS:
        raise ConfigError(f"attack kind: unknown {kind!r}; choose one of {sorted(ATTACKS)}")
    cls = ATTACKS[kind]
    if seed is not None and "seed" in cls.allowed_settings():
        settings = {**settings, "seed": int(seed)}
    return cls.from_settings(**settings)


def attack_from_config(config: dict, seed: int, generators=(), shape=None, n_classes: int | None = None) -> Attack:
    """A grid attack from its config entry (``kind`` and settings; ``keep_successful`` is the attack rule's).
    ``generators``: a rule's optional input, the generators file of a dgn attack (a path or a list of one)."""
    attack = make_attack(config["kind"], seed=seed, **attack_settings(config))
    paths = [generators] if isinstance(generators, str) else list(generators)
    if config["kind"] == "dgn":
        from ..deepcustom.generators import load_generators

        if len(paths) != 1:
            raise ValueError("a dgn attack needs its generators file (rule train_dgn)")
        attack.use(load_generators(paths[0], shape, n_classes))
    return attack


__all__ = ["ATTACKS", "Attack", "AttackResult", "BIM", "CW", "ConfigError", "DGN", "DeepFool", "FGSM", "L1BIM",
           "L2BIM", "Mix", "PGD", "PGDL2", "SoftmaxAsLogits", "WORKFLOW_KEYS", "attack_from_config",
           "attack_settings", "filter_successful", "make_attack", "perturbation_norms"]
