"""Adversarial attacks: one module per attack declaring itself (``KIND = AttackKind(...)``), one base class
(:class:`Attack`).

``make_attack(kind, seed=None, **settings)`` builds one from config settings; unknown
settings raise :class:`~guided_retraining.errors.ConfigError` naming the allowed keys.
"""

from __future__ import annotations

from ..errors import ConfigError
from . import bim, cw, deepfool, dgn, fgsm, l1bim, l2bim, mix, pgd, pgdl2
from .base import Attack, AttackResult, SoftmaxAsLogits, filter_successful, perturbation_norms
from .bim import BIM
from .cw import CW
from .deepfool import DeepFool
from .dgn import DGN
from .fgsm import FGSM
from .kind import USES, AttackKind
from .l1bim import L1BIM
from .l2bim import L2BIM
from .mix import Mix
from .pgd import PGD
from .pgdl2 import PGDL2

#: the attack kinds by name, each declared once in its own module (``KIND = AttackKind(...)``), in the schema's
#: order; :func:`register` adds a plugin's
ATTACKS: dict[str, AttackKind] = {m.KIND.name: m.KIND for m in (fgsm, bim, pgd, pgdl2, deepfool, cw, l1bim, l2bim,
                                                                mix, dgn)}


def register(kind: AttackKind) -> None:
    """Add an attack kind declared outside the package (a module of the config's ``plugins``); a name already
    declared (by the package or another plugin) stops the run with one line."""
    from ..plugins import check_new

    check_new("attack kind", kind.name, ATTACKS, kind, AttackKind)
    ATTACKS[kind.name] = kind


def attack_kind(kind: str) -> AttackKind:
    """The declaration of attack ``kind``; ConfigError naming the known ones otherwise."""
    if kind not in ATTACKS:
        raise ConfigError(f"attack kind: unknown {kind!r}; choose one of {sorted(ATTACKS)}")
    return ATTACKS[kind]


#: keys of a config attack entry that are the workflow's, not the attack's own settings
WORKFLOW_KEYS = ("kind", "keep_successful", "softmax_as_logits", "adv_test")


def attack_settings(entry: dict) -> dict:
    """The attack's own settings of a config entry (``kind`` and the workflow's keys left out)."""
    return {k: v for k, v in entry.items() if k not in WORKFLOW_KEYS}


def make_attack(kind: str, seed: int | None = None, **settings) -> Attack:
    """Attack ``kind`` with ``settings``; ``seed`` goes to attacks with random parts and is ignored by the others."""
    return attack_kind(kind).make(seed, **settings)


def attack_from_config(config: dict, seed: int, generators=(), shape=None, n_classes: int | None = None) -> Attack:
    """A grid attack from its config entry (``kind`` and settings; ``keep_successful`` is the attack rule's).
    ``generators``: a rule's optional input, the generators file of a kind that ``needs_generators`` (a path or
    a list of one)."""
    kind = attack_kind(config["kind"])
    attack = kind.make(seed, **attack_settings(config))
    paths = [generators] if isinstance(generators, str) else list(generators)
    if kind.needs_generators:
        from ..deepcustom.generators import load_generators

        if len(paths) != 1:
            raise ValueError(f"a {kind.name} attack needs its generators file (rule train_dgn)")
        attack.use(load_generators(paths[0], shape, n_classes))
    return attack


__all__ = ["ATTACKS", "USES", "Attack", "AttackKind", "AttackResult", "BIM", "CW", "ConfigError", "DGN", "DeepFool",
           "FGSM", "L1BIM", "L2BIM", "Mix", "PGD", "PGDL2", "SoftmaxAsLogits", "WORKFLOW_KEYS", "attack_from_config",
           "attack_kind", "attack_settings", "filter_successful", "make_attack", "perturbation_norms", "register"]
