"""A setting's range written as data: a comparison and a bound (``"> 0"``, ``">= 0"``, ``">= 1"``).

The attacks declare theirs in ``RANGES`` (checked by ``Attack.__init__``, shown in docs/attacks.md's table of
kinds) and DeepCustom's generator settings in ``DGNSettings.RANGES``; :func:`check_ranges` checks either.
"""

from __future__ import annotations

import operator

_COMPARE = {">": operator.gt, ">=": operator.ge}


def check_ranges(ranges: dict[str, str], values: dict) -> None:
    """Each value of ``values`` whose key has a range in ``ranges`` (``"> 0"``, ``">= 1"``: a comparison and
    a bound) within it; ValueError naming the first one outside."""
    for key, rule in ranges.items():
        if key in values:
            op, bound = rule.split()
            value = values[key]
            if value is None or not _COMPARE[op](value, float(bound)):
                raise ValueError(f"{key} must be {rule}, got {value!r}")
