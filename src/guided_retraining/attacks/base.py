"""One base class for adversarial attacks; one attack per module (as torchattacks).

Randomness: jobs run as threads of one process, so no attack touches torch's or
numpy's global random state. Attacks with random parts (PGD's random start, the
mix's split into thirds) take a ``seed`` setting and draw from their own
``torch.Generator`` / ``np.random.default_rng``; :meth:`Attack.run` seeds one
generator per run, so the same seed gives bit-identical adversarial inputs on the CPU.
"""

from __future__ import annotations


import inspect
import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..progress import Progress
from ..ranges import check_ranges


def perturbation_norms(x: np.ndarray, x_adv: np.ndarray) -> dict[str, np.ndarray]:
    """Per-input L-inf, L2 and L1 norms of ``x_adv - x`` (float64)."""
    if len(x) == 0:
        return {"linf": np.zeros(0), "l2": np.zeros(0), "l1": np.zeros(0)}
    delta = (np.asarray(x_adv, np.float64) - np.asarray(x, np.float64)).reshape(len(x), -1)
    return {"linf": np.abs(delta).max(axis=1), "l2": np.sqrt((delta ** 2).sum(axis=1)), "l1": np.abs(delta).sum(axis=1)}


@dataclass
class AttackResult:
    """Adversarial inputs and what the attack achieved on them.

    ``kinds`` (only for attacks that mix several attacks) names, per input, the
    attack applied to it.
    """

    x_adv: np.ndarray
    success: np.ndarray  # bool: the model's prediction on x_adv differs from the label
    linf: np.ndarray  # per-input L-infinity norm of the perturbation
    l2: np.ndarray  # per-input L2 norm of the perturbation
    l1: np.ndarray | None = None  # per-input L1 norm of the perturbation
    kinds: np.ndarray | None = field(default=None)  # per-input attack kind (mix only)

    def summary(self) -> dict:
        n = len(self.x_adv)

        def stats(mask=None) -> dict:
            sel = slice(None) if mask is None else mask
            m = len(self.success[sel])

            def stat(a, f):
                return float(f(a[sel])) if m and a is not None else float("nan")

            return {
                "n": int(m),
                "n_success": int(np.sum(self.success[sel])),
                "success_rate": stat(self.success, np.mean),
                "linf_mean": stat(self.linf, np.mean),
                "linf_max": stat(self.linf, np.max),
                "l2_mean": stat(self.l2, np.mean),
                "l2_max": stat(self.l2, np.max),
                "l1_mean": stat(self.l1, np.mean),
                "l1_max": stat(self.l1, np.max),
            }

        out = stats()
        out["n"] = n
        if self.kinds is not None:
            out["by_kind"] = {str(k): stats(self.kinds == k) for k in sorted(set(self.kinds.tolist()))}
        return out


def filter_successful(result: AttackResult, x: np.ndarray, y: np.ndarray,
                      correct_before: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep only the adversarial inputs of ``result`` (made from ``x`` with labels ``y``) that fooled the model.

    Fooled means misclassified after the attack and, when ``correct_before`` (bool per input: the
    model classified the clean input correctly) is given, classified correctly before it: an input
    the model already got wrong was not fooled by the attack. Returns ``(x_adv, y, indices)``: the
    kept adversarial inputs, their labels and their indices into ``x`` (ascending, int64).
    """
    if len(result.x_adv) != len(x) or len(x) != len(y):
        raise ValueError(f"filter_successful: {len(result.x_adv)} adversarial inputs, {len(x)} inputs, {len(y)} labels")
    fooled = np.asarray(result.success, bool)
    if correct_before is not None:
        if len(correct_before) != len(x):
            raise ValueError(f"filter_successful: {len(correct_before)} clean predictions for {len(x)} inputs")
        fooled = fooled & np.asarray(correct_before, bool)
    idx = np.flatnonzero(fooled).astype(np.int64)
    return result.x_adv[idx], np.asarray(y)[idx], idx


class SoftmaxAsLogits(nn.Module):
    """``model`` followed by a softmax, handed to an attack that treats its output as logits.

    Replication switch (a flaw of the study's replication package, kept selectable): the study's Keras models end in a softmax
    and its attacks expect logits, so their loss is the cross-entropy of softmax(softmax(z)); the
    gradients saturate and the attack is weaker. Off by default (the attacks get the logits).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)


class Attack:
    """Base class: subclasses implement :meth:`perturb` on one batch of inputs in [0, 1].

    ``model`` must return logits. The model is put in eval mode; inputs and outputs
    are float32 NCHW in [0, 1]. Randomised attacks set ``randomized = True``, take a
    ``seed`` setting and accept ``perturb(..., generator=...)``.
    """

    name = "attack"
    randomized = False
    #: each setting's range ("> 0", ">= 0", ">= 1"): checked when the attack is made (one line naming the
    #: setting; a config's entry is checked before any job) and shown in docs/attacks.md's table of kinds
    RANGES: dict[str, str] = {}

    def __init__(self, **settings):
        check_ranges(self.RANGES, settings)
        self.settings = settings

    @classmethod
    def setting_defaults(cls) -> dict:
        """The settings it takes and their defaults: the keyword arguments of ``__init__`` (an attack whose
        settings live elsewhere overrides this; :meth:`allowed_settings` and ``AttackKind.settings`` read it)."""
        params = inspect.signature(cls.__init__).parameters
        return {k: p.default for k, p in params.items()
                if k != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    @classmethod
    def allowed_settings(cls) -> list[str]:
        return list(cls.setting_defaults())

    @classmethod
    def check_types(cls, settings: dict) -> None:
        """Each setting's type against its default's: a bool for a bool, an integer for an integer,
        a number for a float (or for ``None``, a default computed from others), a string for a string."""
        defaults = cls.setting_defaults()
        for key, value in settings.items():
            default = defaults.get(key, inspect.Parameter.empty)
            if isinstance(default, bool):
                ok, expected = isinstance(value, bool), "true or false"
            elif isinstance(default, int):
                ok, expected = isinstance(value, int) and not isinstance(value, bool), "an integer"
            elif isinstance(default, float) or default is None:
                ok, expected = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
            elif isinstance(default, str):
                ok, expected = isinstance(value, str), "a string"
            else:
                continue
            if not ok:
                raise ConfigError(f"{key}: expected {expected} for attack {cls.name!r}, got {value!r}")

    @classmethod
    def from_settings(cls, **settings) -> "Attack":
        """Build from config settings; unknown keys raise :class:`ConfigError` naming the allowed ones,
        wrong types and out-of-range values one naming the key."""
        allowed = cls.allowed_settings()
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)} for attack {cls.name!r}; allowed: "
                              f"{', '.join(allowed)}")
        cls.check_types(settings)
        try:
            return cls.build(settings)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"attack {cls.name!r}: {err}") from None

    @classmethod
    def build(cls, settings: dict) -> "Attack":
        """The attack of checked ``settings`` (an attack taking one settings object overrides this)."""
        return cls(**settings)

    def make_generator(self) -> torch.Generator | None:
        """A CPU generator seeded with the ``seed`` setting (randomised attacks only)."""
        if not self.randomized:
            return None
        return torch.Generator().manual_seed(int(self.settings.get("seed", 0)))

    def perturb(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def craft(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
              generator: torch.Generator | None = None) -> torch.Tensor:
        """:meth:`perturb`, passing ``generator`` to randomised attacks only."""
        if self.randomized:
            return self.perturb(model, x, y, generator=generator)
        return self.perturb(model, x, y)

    def run(
        self,
        model: nn.Module,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int = 256,
        device: str = "cpu",
        log: logging.Logger | None = None,
        label: str | None = None,
    ) -> AttackResult:
        from ..training import resolve_device

        dev = resolve_device(device)
        was_training = model.training
        model.to(dev).eval()
        gen = self.make_generator()
        progress = Progress(len(x), label or f"{self.name} attack", log)
        advs, succ = [], []
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start:start + batch_size], dtype=np.float32)).to(dev)
            yb = torch.from_numpy(np.ascontiguousarray(y[start:start + batch_size])).long().to(dev)
            adv = self.craft(model, xb, yb, gen)
            model.eval()  # torchattacks restores the mode it found; keep eval for the check
            adv = adv.detach().clamp_(0.0, 1.0)
            with torch.no_grad():
                succ.append((model(adv).argmax(1) != yb).cpu().numpy())
            advs.append(adv.cpu().numpy().astype(np.float32))
            progress.update(len(xb))
        model.train(was_training)
        x_adv = np.concatenate(advs) if advs else np.zeros_like(x, dtype=np.float32)
        norms = perturbation_norms(x, x_adv)
        return AttackResult(
            x_adv=x_adv,
            success=np.concatenate(succ) if succ else np.zeros(0, bool),
            linf=norms["linf"], l2=norms["l2"], l1=norms["l1"],
        )


class IterativeAttack(Attack):
    """Base of the iterative attacks: budget ``eps``, step ``alpha`` (default ``0.2 * eps``,
    foolbox's rel_stepsize) and ``steps``; subclasses with more settings pass them to
    :meth:`_set_steps`."""

    def __init__(self, eps: float = 0.05, alpha: float | None = None, steps: int = 10):
        self._set_steps(eps, alpha, steps)

    RANGES = {"eps": "> 0", "alpha": "> 0", "steps": "> 0"}

    def _set_steps(self, eps: float, alpha: float | None, steps: int, **more) -> None:
        alpha = default_alpha(eps, alpha)
        check_ranges(self.RANGES, {"eps": eps, "alpha": alpha, "steps": steps})
        self.eps, self.alpha, self.steps = float(eps), alpha, int(steps)
        super().__init__(eps=self.eps, alpha=self.alpha, steps=self.steps, **more)


def default_alpha(eps: float, alpha: float | None, rel_stepsize: float = 0.2) -> float:
    """foolbox's step size: ``alpha`` if given, else ``rel_stepsize * eps``."""
    return float(rel_stepsize * eps if alpha is None else alpha)


def check_positive(**values) -> None:
    """Each value > 0 (for an attack of a plugin that checks in its constructor)."""
    check_ranges({key: "> 0" for key in values}, values)


def input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of the summed cross-entropy w.r.t. ``x`` (per-input gradients, batch-independent)."""
    x = x.clone().detach().requires_grad_(True)
    loss = nn.functional.cross_entropy(model(x), y, reduction="sum")
    return torch.autograd.grad(loss, x)[0].detach()
