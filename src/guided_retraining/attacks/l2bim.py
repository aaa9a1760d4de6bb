"""L2 Basic Iterative Method as foolbox 3's ``L2BasicIterativeAttack`` (labelled "CW" in the study's notebooks).

x_0 = x;  g = grad_x CE(f(x_t), y);  x' = x_t + alpha * g / ||g||_2;
x' = x + (x' - x) * min(1, eps / ||x' - x||_2);  x_{t+1} = clip_[0,1](x').
Deterministic. Defaults are foolbox's: eps 0.05 (the study's), rel_stepsize 0.2
(alpha = 0.2 * eps), 10 steps. Same as PGD-L2 without random start, except for the
foolbox conventions (summed loss, 1e-12 floors).
"""

from __future__ import annotations

from .kind import AttackKind
from .l1bim import L1BIM


class L2BIM(L1BIM):
    """:class:`L1BIM`'s iteration with the L2 norm."""

    name = "l2bim"
    norm = 2


KIND = AttackKind("l2bim", L2BIM,
                  "foolbox's L2 basic iterative attack (the study's 'CW'): L2 <= eps, alpha None: 0.2 * eps;"
                  " deterministic",
                  "foolbox 3 (the study's notebooks)")
