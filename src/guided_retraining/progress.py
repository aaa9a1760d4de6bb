"""Progress lines with an ETA for long steps (training, attacks, scoring)."""

from __future__ import annotations

import logging
import time


class Progress:
    """Log ``label: done/total (pct%) elapsed, ETA`` at most every ``every`` seconds and at the end."""

    def __init__(self, total: int, label: str, log: logging.Logger | None = None, every: float = 5.0):
        self.total = max(int(total), 1)
        self.label = label
        self.log = log or logging.getLogger("guided_retraining")
        self.every = every
        self.done = 0
        self.start = time.perf_counter()
        self._last = self.start

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self.log.info(self.line(now))

    def line(self, now: float | None = None) -> str:
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        frac = min(self.done / self.total, 1.0)
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        return (
            f"{self.label}: {self.done}/{self.total} ({100 * frac:.0f}%)"
            f" elapsed {_fmt(elapsed)}, ETA {_fmt(eta)}"
        )


def _fmt(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "?"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}"
