"""Adversarial attacks: one module per attack, one base class (:class:`Attack`)."""

from __future__ import annotations

from .base import Attack, AttackResult
from .fgsm import FGSM

ATTACKS: dict[str, type[Attack]] = {"fgsm": FGSM}


def make_attack(kind: str, **settings) -> Attack:
    if kind not in ATTACKS:
        raise KeyError(f"unknown attack {kind!r}; choose one of {sorted(ATTACKS)}")
    return ATTACKS[kind](**settings)


__all__ = ["ATTACKS", "Attack", "AttackResult", "FGSM", "make_attack"]
