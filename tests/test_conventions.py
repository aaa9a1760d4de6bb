"""What the README promises about running the workflow: the bare command finds the local profile,
code edits re-run what they affect, the rules lint clean and are formatted with snakefmt."""

import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def test_the_bare_readme_command_loads_the_local_profile(tmp_path):
    # README: `snakemake --cores 8` from the repository root (here as a dry run in a copy of the
    # repository's files, so that the check plans the default study without touching the checkout).
    root = _copy_workflow(tmp_path)
    proc = subprocess.run(SNAKEMAKE + ["-n", "--cores", "8"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Using workflow specific profile profiles/default" in proc.stderr
    profile = yaml.safe_load((REPO / "profiles/default/config.yaml").read_text())
    assert profile["force-use-threads"] is True  # jobs as threads: torch imported once


def _copy_workflow(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Snakefile", "workflow", "scripts", "src", "config", "profiles"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(source, root / name)
    return root


def _outdated(root, target):
    proc = subprocess.run(SNAKEMAKE + ["-n", "--cores", "1", target], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return "rule prepare:" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.mark.workflow
def test_editing_a_script_or_the_library_code_it_imports_reruns_the_rule(tmp_path):
    root = _copy_workflow(tmp_path)
    target = "results/digits/data.npz"
    proc = subprocess.run(SNAKEMAKE + ["--cores", "1", target], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not _outdated(root, target)[0]

    script = root / "scripts/prepare.py"
    original = script.read_text()
    script.write_text(original + "\n# an edit\n")
    outdated, text = _outdated(root, target)
    assert outdated and "Params have changed" in text
    script.write_text(original)
    assert not _outdated(root, target)[0]

    # a library module the rule imports (through guided_retraining.datasets) re-runs it ...
    module = root / "src/guided_retraining/datasets/split.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    assert _outdated(root, target)[0]
    module.write_text(module.read_text().removesuffix("\n# an edit\n"))
    # ... one it does not import (the plots) does not
    plots = root / "src/guided_retraining/plots.py"
    plots.write_text(plots.read_text() + "\n# an edit\n")
    assert not _outdated(root, target)[0]


def test_snakemake_lint_reports_nothing():
    proc = subprocess.run(SNAKEMAKE + ["--lint"], cwd=REPO, capture_output=True, text=True)
    assert "Lints for" not in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-3000:]


def test_snakefile_and_rules_are_formatted_with_snakefmt():
    proc = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
