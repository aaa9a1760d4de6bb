"""The kinds of new inputs on the grid's axis, from their declarations: the attack kinds
(:data:`guided_retraining.attacks.ATTACKS`, ``AttackKind``) and the shift kinds
(:data:`guided_retraining.shifts.SHIFTS`, ``ShiftKind``).

Where each may be used derives from them: :func:`names` for the grid's attacks (``attacks.NAME.kind``: attacks
and shifts), an attack's ``adv_test`` and the defences' attacks (``defences.attacks.NAME.kind``, beside
``none``). These lists are the schema's three enums (written by ``python -m guided_retraining.regenerate``) and,
with a plugin's kinds registered, the enums the config is validated against (:func:`schema_enums`). The table of
docs/attacks.md is :func:`docs_table`.
"""

from __future__ import annotations

from . import attacks, shifts

#: the schema's ``$defs`` entry of each use (its ``kind`` enum); ``defences`` also takes ``none`` (clean Test)
SCHEMA_DEFS = {"grid": "attack", "adv_test": "test_attack", "defences": "eval_attack"}
EXTRA = {"defences": ["none"]}


def declared(kind: str):
    """The declaration of grid kind ``kind`` (an ``AttackKind`` or a ``ShiftKind``), None when there is none."""
    return attacks.ATTACKS.get(kind) or shifts.SHIFTS.get(kind)


def names(use: str) -> list[str]:
    """The kinds that may be used in ``use`` (``grid``, ``adv_test``, ``defences``), in declaration order:
    the attacks', then the shifts' (and ``none`` for the defences)."""
    return EXTRA.get(use, []) + [k for k, d in {**attacks.ATTACKS, **shifts.SHIFTS}.items() if use in d.uses]


def schema_enums(schema: dict) -> dict:
    """``schema`` with its three kind enums, its loader enum and its metric kinds set from the registries as they
    are now (a plugin's names included)."""
    from .datasets import LOADERS
    from .metrics.registry import METRICS

    defs = schema.get("$defs", {})
    for use, name in SCHEMA_DEFS.items():
        kind = defs.get(name, {}).get("properties", {}).get("kind")
        if isinstance(kind, dict) and "enum" in kind:
            kind["enum"] = names(use)
    for name, key, values in (("dataset", "loader", list(LOADERS)), ("metric", "kind", list(METRICS))):
        prop = defs.get(name, {}).get("properties", {}).get(key)
        if isinstance(prop, dict) and "enum" in prop:
            prop["enum"] = values
    return schema


def check_distinct() -> None:
    """An attack kind a plugin registered under a shift kind's name (``attacks.register`` cannot see the shifts,
    a layer above it): one line before the config is read, naming the key the plugins come from."""
    from .errors import ConfigError
    from .plugins import key

    both = sorted(set(attacks.ATTACKS) & set(shifts.SHIFTS))
    if both:
        raise ConfigError(f"{key()}: attack kind {both[0]!r} is already declared as a shift kind; choose another name")


def check_uses(config: dict) -> None:
    """A kind declared, but not for where the config uses it (``adv_test``, ``defences.attacks``): one line naming
    the key and where the kind may stand (run before the schema, whose enums would only say "not allowed")."""
    from .errors import ConfigError

    attacks = config.get("attacks") if isinstance(config.get("attacks"), dict) else {}
    defences = config.get("defences") if isinstance(config.get("defences"), dict) else {}
    entries = [(f"attacks.{n}.adv_test.kind", a.get("adv_test"), "adv_test") for n, a in attacks.items()
               if isinstance(a, dict)]
    defence_attacks = defences.get("attacks") if isinstance(defences.get("attacks"), dict) else {}
    entries += [(f"defences.attacks.{n}.kind", a, "defences") for n, a in defence_attacks.items()]
    for where, entry, use in entries:
        kind = entry.get("kind") if isinstance(entry, dict) else None
        d = declared(kind) if isinstance(kind, str) else None
        if d is not None and use not in d.uses:
            hint = ("compare models against it with deepcustom.robust" if use == "defences" else
                    f"choose one of {', '.join(names(use))}")
            raise ConfigError(f"{where}: {kind!r} is declared for {', '.join(d.uses)} only, not {use}; {hint}")


def needs_generators(config: dict) -> dict[str, dict]:
    """The grid's attacks whose kind needs generators (trained by the workflow before the attack runs)."""
    return {name: a for name, a in config["attacks"].items()
            if getattr(declared(a.get("kind")), "needs_generators", False)}


def docs_table() -> str:
    """The table of grid kinds in docs/attacks.md (Markdown): one row per attack and shift kind of the package."""
    rows = ["| kind | what it makes | settings (defaults, ranges) | used in | source |", "|---|---|---|---|---|"]
    for kind in attacks.ATTACKS.values():
        ranges = kind.ranges()
        settings = ", ".join(f"`{k}` {_default(v)}" + (f" ({ranges[k]})" if k in ranges else "")
                             for k, v in kind.settings().items())
        uses = ", ".join(kind.uses) + (" (generators trained first)" if kind.needs_generators else "")
        rows.append(f"| `{kind.name}` | {kind.summary} | {settings or '—'} | {uses} | {kind.paper} |")
    for kind in shifts.SHIFTS.values():
        rows.append(f"| `{kind.name}` | shift: {kind.summary} | {', '.join(f'`{k}`' for k in kind.settings)} | "
                    f"{', '.join(kind.uses)} | [shifts](shifts.md) |")
    return "\n".join(rows) + "\n"


def _default(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "(from the others)"
    return f"{value:g}" if isinstance(value, float) else str(value)

