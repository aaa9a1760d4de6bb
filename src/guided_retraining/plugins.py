"""Plugins: modules of the user's own that register loaders, attack kinds, metrics and result tables.

The config's ``plugins`` lists them: an importable module name (``mypackage.myplugin``: installed or on
``PYTHONPATH``) or a path to a ``.py`` file (relative to the working directory, or absolute). :func:`load`
imports each once per process; importing it runs its ``register(...)`` calls
(:func:`guided_retraining.datasets.register`, :func:`guided_retraining.attacks.register`,
:func:`guided_retraining.metrics.register`, :func:`guided_retraining.table_registry.register`). The workflow
loads them before it checks the config (workflow/rules/common.smk), so a plugin's names pass the schema's
enums and the config checks like the package's own; a job's script loads them again before it reads a
registry (:func:`load`, through ``guided_retraining.runner.execute``), so a job in a process of its own sees
them too. The config's older key ``extra_tables`` (modules that register tables) is loaded the same way.

A plugin runs code like a Python script: configs must come from trusted sources (as ``arch: {factory: ...}``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path

from .errors import ConfigError

_lock = threading.RLock()
_loading: list[str] = []  # the config key whose module is being imported (its register() calls name it)


def key() -> str:
    """The config key a ``register()`` error names: that of the module being loaded (``plugins`` or
    ``extra_tables``), ``plugins`` when called from elsewhere."""
    return _loading[-1] if _loading else "plugins"


def load_config(config: dict) -> None:
    """Load the plugins a config names: ``plugins``, then ``extra_tables`` (the older key, for table modules)."""
    for key in ("plugins", "extra_tables"):
        load(config.get(key) or [], key)


def load(names, key: str = "plugins") -> None:
    """Import each plugin module of ``names`` (module names or ``.py`` paths) once per process; a module that
    cannot be found or fails while importing stops with one :class:`ConfigError` naming ``key`` and the module."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ConfigError(f"{key}: expected a list of module names or .py file paths, got {names!r}")
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{key}: {name!r} is not a module name or a .py file path")
        with _lock:
            _loading.append(key)
            try:
                _load_one(name, key)
            finally:
                _loading.pop()


def _load_one(name: str, key: str) -> None:
    is_path = name.endswith(".py") or "/" in name
    module_name = name
    try:
        if is_path:
            path = Path(name).resolve()
            module_name = f"guided_retraining_plugin_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
            if module_name in sys.modules:
                return
            if not path.is_file():
                raise ConfigError(f"{key}: {name!r}: no such file; expected a .py file that registers its kinds")
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[module_name]
                raise
        else:
            importlib.import_module(name)
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(message if message.startswith(f"{key}: ") else f"{key}: {name}: {message}") from None
    except Exception as exc:  # ImportError, or any error the module raises while it runs: one line, named
        what = "cannot import module" if isinstance(exc, ImportError) else "module failed while importing:"
        detail = " ".join(str(exc).split())
        raise ConfigError(f"{key}: {what} {name!r} ({type(exc).__name__}: {detail}); expected an importable module"
                          " or .py file that registers its kinds") from None


def check_new(what: str, name: str, registry: dict, declaration, cls: type) -> None:
    """A declaration a plugin registers: of type ``cls``, its ``name`` not one already in ``registry``
    (one-line ConfigError naming :func:`key` otherwise). Registering the very same declaration again (a module
    loaded twice) passes."""
    if not isinstance(declaration, cls):
        raise ConfigError(f"{key()}: register() of a {what} takes a {cls.__name__}, got "
                          f"{type(declaration).__name__}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"{key()}: {what} name {name!r} is not allowed; use letters, digits and underscores")
    known = registry.get(name)
    if known is not None and known is not declaration and known != declaration:
        raise ConfigError(f"{key()}: {what} {name!r} is already declared; choose another name")
