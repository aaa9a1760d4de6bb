"""The declaration each attack module makes of itself: ``KIND = AttackKind(...)``.

From the declarations (:data:`guided_retraining.attacks.ATTACKS`, with any :func:`register`-ed from a plugin)
derive the schema's three attack-kind enums (the grid's, ``adv_test``'s and ``defences.attacks``'s; written by
``python -m guided_retraining.regenerate``), the config checks (an unknown kind, a kind used where it cannot
apply, a setting of the wrong name, type or range: one line naming the key, before any job), whether the
workflow trains generators for it (``needs_generators``: rule ``train_dgn``) and the table of attack kinds of
docs/attacks.md.

The settings are the attack class's own keyword arguments: their names and defaults (whose types are the
settings' types) in its ``__init__`` signature, their ranges in its ``RANGES`` (checked by ``Attack.__init__``;
:meth:`Attack.from_settings` turns both into one-line :class:`~guided_retraining.errors.ConfigError`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: where a kind may be used: the grid's attacks (``attacks.NAME``), an attack's ``adv_test`` (the attack that
#: makes Adv.Val and Adv.Test) and the defences' attacks (``defences.attacks.NAME``)
USES = ("grid", "adv_test", "defences")


@dataclass(frozen=True)
class AttackKind:
    """An attack kind: its name (``kind:`` in the config, the class's ``name``), class, one-line summary,
    paper, where it may be used (:data:`USES`) and whether it needs generators trained first
    (``needs_generators``: the workflow trains them with rule ``train_dgn`` per dataset, repetition and
    attack, and hands the file to the attack's ``use``)."""

    name: str
    cls: type
    summary: str
    paper: str = ""
    uses: tuple[str, ...] = USES
    needs_generators: bool = False

    def __post_init__(self) -> None:
        if getattr(self.cls, "name", None) != self.name:
            raise ValueError(f"attack kind {self.name!r}: its class's name is {getattr(self.cls, 'name', None)!r}")
        unknown = sorted(set(self.uses) - set(USES))
        if unknown:
            raise ValueError(f"attack kind {self.name!r}: uses {unknown} unknown; choose from {', '.join(USES)}")

    def settings(self) -> dict[str, object]:
        """The settings it takes and their defaults (the class's keyword arguments, ``Attack.setting_defaults``)."""
        return self.cls.setting_defaults()

    def ranges(self) -> dict[str, str]:
        """Each setting's range (the class's ``RANGES``: ``"> 0"``, ``">= 1"``), checked when the attack is made."""
        return dict(getattr(self.cls, "RANGES", {}))

    def make(self, seed: int | None = None, **settings):
        """The attack with ``settings`` (ConfigError naming the setting otherwise); ``seed`` goes to attacks
        with a ``seed`` setting (random parts) and is ignored by the others."""
        if seed is not None and "seed" in self.settings():
            settings = {**settings, "seed": int(seed)}
        return self.cls.from_settings(**settings)
