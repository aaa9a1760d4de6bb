"""The config a run uses: the default study as the base, overridden by config files, then by ``--config``.

1. ``config/config.yaml`` beside the Snakefile (the default study) is always the base, whatever the working
   directory (``--directory DIR`` included).
2. Each ``--configfile`` in the order given overrides what came before; then ``--config key=value``.
3. How a key given later overrides the earlier value depends on what the schema says the key holds:

   - a *collection* (``datasets``, ``attacks``, ``metrics``: names chosen by the user, each with its options)
     and a list (``configurations``) are replaced as a whole: a file that lists two metrics runs those two;
     ``attacks`` and its other name ``shifts`` are one collection: a file giving either replaces both;
   - a *settings section* (``retrain``, ``aggregate``, ``objectives``, ``defences``, ``deepcustom``: keys fixed by
     the schema)
     is merged key by key: the keys given replace theirs (each key's value as a whole, e.g. ``retrain.train``),
     the keys left out keep the earlier value;
   - any other value (``seed``, ``repetitions``, ...) is replaced;
   - ``null`` removes the key (at the top level or in a settings section): the schema's default then applies.

Snakemake itself merges config files into one another at every depth (so a second file's ``metrics`` would
add to the first's) and skips the Snakefile's ``configfile:`` once ``--configfile`` is given (so a file with one
key would replace the default); the Snakefile therefore builds its config with :func:`layered_config` from the
files Snakemake was given, not from Snakemake's merge. The semantics are documented in docs/configuration.md.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

from .errors import ConfigError

#: The grid's axis of new inputs: one collection with two names (``shifts`` is another name of ``attacks``,
#: :func:`guided_retraining.config.merge_shifts`); a later file giving either replaces both.
AXIS_NAMES = ("attacks", "shifts")

#: The default study, relative to the directory of the Snakefile.
DEFAULT_CONFIG = "config/config.yaml"


def load_config_file(path) -> dict:
    """A config file's mapping; a one-line ConfigError naming ``path`` when it is missing, unreadable, not
    YAML (JSON is YAML) or not a mapping of keys."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path}: not found (a path is taken from the current directory,"
                          f" {Path.cwd()})") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path}: is a directory; give a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"config file {path}: cannot be read ({reason})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise ConfigError(f"config file {path}: not valid YAML{where} ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys (key: value), found a"
                          f" {type(data).__name__}")
    return data


def _resolve(schema: dict, node):
    while isinstance(node, dict) and "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node if isinstance(node, dict) else {}


def settings_sections(schema: dict) -> set[str]:
    """Top-level keys holding settings (a mapping whose keys the schema fixes): merged key by key.
    Every other key (a collection of named entries, a list, a value) is replaced as a whole."""
    sections = set()
    for key, sub in schema.get("properties", {}).items():
        sub = _resolve(schema, sub)
        if sub.get("type") == "object" and sub.get("properties") and sub.get("additionalProperties") is False:
            sections.add(key)
    return sections


def merge(base: dict, override: dict, sections: set[str]) -> dict:
    """``base`` overridden by ``override`` (see the module docstring); neither is modified."""
    merged = copy.deepcopy(base)
    if any(name in override for name in AXIS_NAMES):  # one collection under two names: replaced whole
        for name in AXIS_NAMES:
            merged.pop(name, None)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif key in sections and isinstance(value, dict) and isinstance(merged.get(key), dict):
            for sub_key, sub_value in value.items():
                if sub_value is None:
                    merged[key].pop(sub_key, None)
                else:
                    merged[key][sub_key] = copy.deepcopy(sub_value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def layered_config(basedir, configfiles=(), overrides=None, schema_path=None) -> dict:
    """The effective config (before the schema's defaults): the default study of the workflow in ``basedir``,
    then each of ``configfiles`` in order, then ``overrides`` (``--config key=value``, already parsed)."""
    basedir = Path(basedir)
    schema = yaml.safe_load(Path(schema_path or basedir / "workflow/schemas/config.schema.yaml").read_text())
    sections = settings_sections(schema)
    config = load_config_file(basedir / DEFAULT_CONFIG)
    for path in configfiles:
        config = merge(config, load_config_file(path), sections)
    return merge(config, dict(overrides or {}), sections)


def apply_layered_config_or_exit(config: dict, workflow) -> None:
    """Replace the contents of the Snakefile's ``config`` with :func:`layered_config` of the files and
    ``--config`` values Snakemake was given; a bad file stops with one line (exit status 1)."""
    settings = workflow.config_settings
    try:
        layered = layered_config(workflow.basedir, settings.configfiles, settings.config)
    except ConfigError as exc:
        print(f"guided-retraining: config error: {exc}", file=sys.stderr)
        sys.exit(1)
    config.clear()
    config.update(layered)
