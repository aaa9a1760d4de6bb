"""Seeds of individual jobs, derived from the config's seed and the job's identity."""

from __future__ import annotations

import hashlib


def derive_seed(base: int, *parts) -> int:
    """A seed in [0, 2**31) determined by ``base`` and ``parts`` (stable across runs and machines)."""
    text = "|".join([str(int(base)), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def repetition_seed(base: int, rep: int) -> int:
    """The base seed of repetition ``rep`` (1-based) of a study with seed ``base``.

    Repetition 1 uses ``base`` itself, so a one-repetition study gives the results it gave before
    repetitions existed; repetition r > 1 uses ``derive_seed(base, "repetition", r)``. Every seed of
    a repetition's jobs (original weights and batches, Adv.Train subset, attack, score, order, retrain
    weights and batches) derives from this one, so repetitions differ in all of them.
    """
    if int(rep) < 1:
        raise ValueError(f"repetition {rep}: repetitions are numbered from 1")
    return int(base) if int(rep) == 1 else derive_seed(base, "repetition", int(rep))
