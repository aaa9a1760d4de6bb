"""Seeds of individual jobs, derived from the config's seed and the job's identity."""

from __future__ import annotations

import hashlib


def derive_seed(base: int, *parts) -> int:
    """A seed in [0, 2**31) determined by ``base`` and ``parts`` (stable across runs and machines)."""
    text = "|".join([str(int(base)), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF
