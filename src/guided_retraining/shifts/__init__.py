"""Distribution shifts: kinds of new inputs beside the adversarial attacks, on the grid's same axis.

A shift makes the side sets an attack makes (rule attack, ``adversarial.npz``): Adv.Train
(``adv_train_size`` inputs, for retraining), Adv.Val (as many as Val) and Adv.Test (as many as Test),
so scoring, ordering, retraining, tables and statistics apply unchanged. Each kind is one module declaring
itself (``KIND = ShiftKind(...)``: summary, settings, its checks and its side sets); ``SHIFTS`` collects them;
:func:`side_sets` makes the three sets of an entry; :func:`check_shift` checks an entry before any job.

* ``corruption`` (``name``, ``severity`` 1-5; :mod:`.corruption`): the seeded Adv.Train subset of Train (the
  attacks'), all of Val and all of Test, corrupted; ``idx_adv_train`` their rows in Train.
* ``natural`` (``source: {loader, root, options}``; :mod:`.natural`): inputs of another dataset with the same
  classes and channels, resized to this dataset's height and width (:mod:`.resize`); the source's images
  (its train and test parts pooled) are cut into three disjoint parts by a seeded permutation, one
  per side set (:func:`.sampling.split_pool`), and each set drawn from its part (:func:`.sampling.take`:
  without replacement when the part is large enough). No clean source in Train:
  ``idx_adv_train`` is -1.
* ``label_shift`` (``priors``, or a Dirichlet ``alpha``; :mod:`.label_shift`): Train, Val and Test each resampled
  to the priors (:func:`.sampling.resample_to_priors`); ``idx_adv_train`` the rows of Train drawn.
"""

from __future__ import annotations

from ..errors import ConfigError
from . import corruption, label_shift, natural
from .corruption import CORRUPTIONS, FAMILIES, check_corruption, corrupt
from .kind import ShiftKind, SideSets
from .label_shift import shift_priors
from .natural import SOURCE_KEYS, load_source
from .resize import resize
from .sampling import check_priors, class_counts, dirichlet_priors, resample_to_priors, split_pool, take

#: the shift kinds by name, each declared once in its own module (``KIND = ShiftKind(...)``); settings: every one
#: optional unless the kind's checks say otherwise
SHIFTS: dict[str, ShiftKind] = {m.KIND.name: m.KIND for m in (corruption, natural, label_shift)}
#: workflow keys of an attack entry that cannot apply to a shift (set, they stop the run)
ATTACK_ONLY = ("keep_successful", "softmax_as_logits", "adv_test")


def is_shift(kind: str) -> bool:
    return kind in SHIFTS


def check_shift(entry: dict, where: str, shape=None, n_classes: int | None = None,
                source_signature=None) -> None:
    """One-line :class:`ConfigError` naming the key unless ``entry`` (a grid entry of a shift kind) can apply
    to a dataset of image ``shape`` (C, H, W) and ``n_classes`` (each ``None`` when unknown).
    ``source_signature``: ``(shape, n_classes, images)`` of a natural shift's source, when known."""
    kind = SHIFTS[entry["kind"]]
    unknown = sorted(k for k in entry if k != "kind" and k not in kind.settings and k not in ATTACK_ONLY)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: not a setting of shift kind {kind.name!r}; allowed: "
                          f"{', '.join(kind.settings)}")
    for key in ATTACK_ONLY:
        if entry.get(key):
            raise ConfigError(f"{where}.{key}: applies to attacks only, not to shift kind {kind.name!r}; leave it out")
    kind.check(entry, where, shape, n_classes, source_signature)


def side_sets(entry: dict, data, adv_train_size: int, subset_seed: int, seed: int, log=None,
              source=None) -> SideSets:
    """The three side sets of shift ``entry`` for prepared ``data`` (x/y_train, val, test).

    ``subset_seed`` draws the Adv.Train subset of a corruption (the attacks' subset), ``seed`` the
    shift's own random choices (corruption noise, natural draws, label resampling, Dirichlet priors).
    ``source``: a natural shift's ``(x, y, n_classes)`` (:func:`load_source`), loaded by the caller.
    """
    if entry["kind"] not in SHIFTS:
        raise ConfigError(f"kind: {entry['kind']!r} is not a shift; choose one of {', '.join(SHIFTS)}")
    sizes = {"train": int(adv_train_size), "val": len(data["y_val"]), "test": len(data["y_test"])}
    return SHIFTS[entry["kind"]].make(entry, data, sizes, subset_seed, seed, log, source)


__all__ = ["ATTACK_ONLY", "CORRUPTIONS", "FAMILIES", "SHIFTS", "SOURCE_KEYS", "ShiftKind", "SideSets",
           "check_corruption", "check_priors", "check_shift", "class_counts", "corrupt", "dirichlet_priors",
           "is_shift", "load_source", "resample_to_priors", "resize", "shift_priors", "side_sets", "split_pool",
           "take"]
