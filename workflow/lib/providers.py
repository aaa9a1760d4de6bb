"""Rule parameters read from the config in one way (in the spirit of PyPSA-Eur's ``config_provider``).

``config_provider(config, "datasets", "{dataset}", "train")`` is a params function: for a job it returns
``config["datasets"][<the job's dataset>]["train"]``. A key written ``"{name}"`` is the job's wildcard
``name``. Each rule takes through it exactly the config sections it depends on, so Snakemake's params
trigger re-runs only the jobs whose sections changed (a metric's settings re-run only that metric's jobs).
This is workflow code (workflow/lib, put on ``sys.path`` by workflow/rules/common.smk), not library code.
"""

from __future__ import annotations

MISSING = object()


def _key(key, wildcards):
    """``"{name}"``: the job's wildcard ``name``; any other key as it is."""
    if isinstance(key, str) and len(key) > 2 and key[0] == "{" and key[-1] == "}":
        return getattr(wildcards, key[1:-1])
    return key


def lookup(config: dict, keys: tuple, wildcards=None, default=MISSING):
    """The config value at ``keys`` (wildcard keys resolved); ``default`` where a key is absent, if given."""
    value = config
    for key in keys:
        key = _key(key, wildcards)
        if not isinstance(value, dict) or key not in value:
            if default is MISSING:
                raise KeyError(f"config has no {'.'.join(map(str, keys))} (at {key!r})")
            return default
        value = value[key]
    return value


def config_provider(config: dict, *keys, default=MISSING):
    """A params function of the job's wildcards returning the config value at ``keys`` (see :func:`lookup`)."""

    def provide(wildcards):
        return lookup(config, keys, wildcards, default)

    provide.__name__ = f"config_provider({', '.join(map(repr, keys))})"
    return provide
