"""The code a rule runs, as one digest: its entry script plus every library module it imports.

Rules call their scripts from ``run:`` blocks (jobs run as threads of one process, see
workflow/lib/jobs.py), so Snakemake's own code trigger sees only the one-line ``run:`` block, never
the script. Each rule therefore passes ``code_digest(basedir, rule)`` as a param: when
``scripts/<rule>.py`` or a ``guided_retraining`` module it imports (directly or through
other modules, found statically from the ``import`` statements) changes, the param changes
and Snakemake's params trigger marks the rule's jobs outdated (``snakemake -n`` says
"Params have changed since last execution"). A module the rule does not import (e.g. the
plotting code for a training rule) does not re-run it.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE = "guided_retraining"


def _module_file(src: Path, module: str) -> Path | None:
    """The file of ``guided_retraining.x.y`` under ``src`` (a module or a package's __init__)."""
    parts = module.split(".")
    base = src.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str, is_package: bool) -> set[str]:
    """Names of the ``guided_retraining`` modules imported anywhere in ``path`` (absolute or relative)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            found.add(parent)
            found.update(f"{parent}.{a.name}" for a in node.names)  # `from pkg import module`
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def library_files(script: Path, src: Path) -> list[Path]:
    """``script`` and every library file it imports, transitively (each package's __init__ included)."""
    seen: dict[str, Path] = {}
    todo = sorted(_imports(script, "__main__", False))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(src, name)
        if path is None:  # `from package import function`: not a module
            continue
        seen[name] = path
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo.extend(parents)  # importing a.b.c runs a/__init__ and a/b/__init__
        todo.extend(_imports(path, name, path.name == "__init__.py"))
    return [script] + sorted(set(seen.values()))


@lru_cache(maxsize=None)
def code_digest(basedir: str, rule: str) -> str:
    """sha256 (16 hex digits) of ``scripts/<rule>.py`` and the library modules it imports."""
    base = Path(basedir)
    digest = hashlib.sha256()
    for path in library_files(base / "scripts" / f"{rule}.py", base / "src"):
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
