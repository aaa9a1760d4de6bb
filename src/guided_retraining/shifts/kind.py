"""The declaration of a shift kind: ``ShiftKind(...)``, one per kind (:data:`guided_retraining.shifts.SHIFTS`).

From the declarations derive the shift kinds of the schema's grid enum (``python -m guided_retraining.regenerate``),
the settings the config check accepts, the table of grid kinds in docs/attacks.md and what the attack rule does
with the side sets (``reads_source``: load another dataset first; ``paired``: each side input has a clean source
in Train / Val / Test, so its perturbation norms are measured).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShiftKind:
    """A shift kind: name (``kind:`` in the config), one-line summary, its settings (beside ``kind``), whether
    it reads another dataset (``reads_source``: ``source: {loader, root, options}``) and whether each side input
    has a clean source (``paired``)."""

    name: str
    summary: str
    settings: tuple[str, ...]
    reads_source: bool = False
    paired: bool = False
    #: where it may be used: the grid only (``adv_test`` and the defences take attacks)
    uses: tuple[str, ...] = ("grid",)
