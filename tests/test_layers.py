"""The package's layers (pyproject.toml's [tool.importlinter] contracts, docs/layout.md): lint-imports keeps
every contract on the library, and breaks them on a copy given an upward import and an import circle."""

import os
import shutil
import subprocess
import sys

from conftest import REPO

CONTRACTS = ("library layers", "metrics:", "datasets:", "models:", "no import circle", "without Snakemake",
             "no torch")


def lint_imports(src, cwd):
    """``lint-imports`` (this interpreter's import-linter, no cache) on the package under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
                           "--no-cache", str(REPO / "pyproject.toml")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def verdicts(stdout: str) -> dict[str, str]:
    """Each contract's verdict (KEPT / BROKEN) by the first words of its name."""
    text = " ".join(stdout.split())
    found = {}
    for name in CONTRACTS:
        at = text.index(name)
        kept, broken = text.find("KEPT", at), text.find("BROKEN", at)
        found[name] = "BROKEN" if broken != -1 and (kept == -1 or broken < kept) else "KEPT"
    return found


def test_the_library_keeps_its_contracts(tmp_path):
    proc = lint_imports(REPO / "src", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(verdicts(proc.stdout).values()) == {"KEPT"}
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in proc.stdout


def test_an_upward_import_or_a_circle_breaks_them(tmp_path):
    copy = tmp_path / "src" / "guided_retraining"
    shutil.copytree(REPO / "src" / "guided_retraining", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "architectures.py", "a") as f:  # the upward import this package had: architectures -> models
        f.write("\n\ndef _user_layers(arch):\n    from .models import user\n\n    return user.layer_names(arch)\n")
    with open(copy / "metrics" / "_common.py", "a") as f:  # the circle it had: _common <-> the kNN engine
        f.write("\n\ndef _engine():\n    from . import _knn_cpu\n\n    return _knn_cpu\n")
    proc = lint_imports(tmp_path / "src", tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # architectures -> models.user also reaches torch, and zoo -> architectures -> user within models
    assert verdicts(proc.stdout) == {**dict.fromkeys(CONTRACTS, "BROKEN"), "datasets:": "KEPT",
                                     "without Snakemake": "KEPT"}
    assert "guided_retraining.architectures -> guided_retraining.models.user" in proc.stdout


def test_every_module_of_the_package_has_a_layer():
    """A new module is checked only once it is placed: every module and subpackage of guided_retraining is
    named in the layers contract and in the no-Snakemake contract."""
    import tomllib

    contracts = {c["id"]: c for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
                 ["contracts"]}
    placed = {name.strip() for layer in contracts["layers"]["layers"] for name in layer.split("|")}
    package = REPO / "src/guided_retraining"
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in package.glob("*/__init__.py")}
    assert modules - placed == set(), f"add these modules to a layer in pyproject.toml: {sorted(modules - placed)}"
    unchecked = {m for m in modules if f"guided_retraining.{m}" not in contracts["no-snakemake"]["source_modules"]}
    assert unchecked == set(), unchecked
