"""MCP: multiple-boundary clustering and prioritisation (Shen et al., ASE 2020).

Shen, Li, Jiang, Zhao 2020, "Multiple-Boundary Clustering and Prioritization to Promote
Neural Network Retraining". Each input falls in the boundary area of its (top-1, top-2)
predicted class pair; within an area its priority is ``p_top2 / p_top1`` (1 = on the
boundary). Selection goes round-robin over the non-empty areas: each round takes the
highest-priority input left in every area; when the budget ends inside a round, the
areas whose best input has the highest priority go first, one input per area. (The
authors' script fills a last partial round by priority; whether it may then take two
inputs of one area was not checked against their code, which was not at hand. One per
area keeps a single order whose every prefix is the selection for that budget.)

MCP is an ORDER, not a score: ``mcp_order`` returns the permutation, round by round,
each round sorted by priority (descending), so that every prefix of the order is MCP's
selection for that budget. Ties: lower class pair, then lower input index.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ._common import as_probs


def top_two(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: top-1 class, top-2 class (ties: lower index first) and priority ``p2 / p1``."""
    p = as_probs(probs)
    if p.shape[1] < 2:
        raise DataError("MCP needs at least two classes")
    rows = np.arange(p.shape[0])
    first = np.argmax(p, axis=1)
    masked = p.copy()
    masked[rows, first] = -np.inf
    second = np.argmax(masked, axis=1)
    p1 = p[rows, first]
    priority = np.where(p1 > 0, p[rows, second] / np.where(p1 > 0, p1, 1.0), 0.0)
    return first, second, priority


def mcp_order(probs) -> np.ndarray:
    """MCP's round-robin order of all inputs (int64 permutation)."""
    first, second, priority = top_two(probs)
    n = priority.size
    c = as_probs(probs).shape[1]
    area = first * c + second
    idx = np.arange(n)
    # rank of each input inside its area: by descending priority, then index
    by_area = np.lexsort((idx, -priority, area))
    sorted_area = area[by_area]
    starts = np.r_[0, np.nonzero(np.diff(sorted_area))[0] + 1] if n else np.zeros(0, dtype=np.int64)
    counts = np.diff(np.r_[starts, n])
    rank = np.empty(n, dtype=np.int64)
    rank[by_area] = np.arange(n) - np.repeat(starts, counts)
    return np.lexsort((idx, area, -priority, rank)).astype(np.int64)
