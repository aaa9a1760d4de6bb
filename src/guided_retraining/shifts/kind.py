"""The declaration each shift kind's module makes of itself (``KIND = ShiftKind(...)``), and the side sets a
shift makes (:class:`SideSets`).

From the declarations (:data:`guided_retraining.shifts.SHIFTS`) derive the shift kinds of the schema's grid enum
(``python -m guided_retraining.regenerate``), the settings the config check accepts, the table of grid kinds in
docs/attacks.md, and what the attack rule does with the side sets (``reads_source``: load another dataset
first; ``paired``: each side input has a clean source in Train / Val / Test, so its perturbation norms are
measured).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class SideSets:
    """Adv.Train (with each row's source in Train, or -1), Adv.Val and Adv.Test of a shift, and what made them."""

    x_train: np.ndarray
    y_train: np.ndarray
    idx_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ShiftKind:
    """A shift kind: name (``kind:`` in the config), one-line summary, its settings (beside ``kind``), its own
    checks and its side sets, whether it reads another dataset (``reads_source``: ``source: {loader, root,
    options}``) and whether each side input has a clean source (``paired``).

    - ``check(entry, where, shape, n_classes, source_signature)``: one-line ConfigError naming the key unless
      the entry can apply to a dataset of image ``shape`` (C, H, W) and ``n_classes`` (each None when unknown);
      ``source_signature``: ``(shape, n_classes, images)`` of the source, when known.
    - ``make(entry, data, sizes, subset_seed, seed, log, source)``: the :class:`SideSets` for prepared ``data``,
      ``sizes`` of the three sets (``train``, ``val``, ``test``), ``subset_seed`` the attacks' Adv.Train
      subset's seed, ``seed`` the shift's own, ``source`` the loaded source (``reads_source`` kinds).
    """

    name: str
    summary: str
    settings: tuple[str, ...]
    check: Callable
    make: Callable
    reads_source: bool = False
    paired: bool = False
    #: where it may be used: the grid only (``adv_test`` and the defences take attacks)
    uses: tuple[str, ...] = ("grid",)
