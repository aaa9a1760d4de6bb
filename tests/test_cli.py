"""The console entry point (guided_retraining.cli: ``guided-retraining check|run|summary|report``) and the
standalone run of one job (``python scripts/<rule>.py TARGET``), each in a subprocess as a user runs them."""

import os
import shutil
import subprocess
import sys


import pytest

from conftest import CONFIGS, REPO
from test_docs_commands import clean_copy  # noqa: F401 (a fixture: the repository's files in a fresh directory)

pytestmark = pytest.mark.workflow


def cli(cwd, *args, timeout=600):
    return subprocess.run([sys.executable, "-m", "guided_retraining.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout,
                          env={**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", "/dev/null")})


def one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return lines[0]


def test_the_entry_point_is_registered():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"guided-retraining": "guided_retraining.cli:entry_point"}


@pytest.mark.parametrize("command", ["", "check", "run", "summary", "report"])
def test_help(tmp_path, command):
    proc = cli(tmp_path, *filter(None, [command]), "--help")
    assert proc.returncode == 0 and proc.stdout.startswith(f"usage: guided-retraining {command}".rstrip()), proc
    assert "CONFIG" in proc.stdout and "--config repetitions=5" in proc.stdout.replace("\n", " ")


def test_check_counts_the_jobs(tmp_path):
    shutil.copy(CONFIGS / "tiny.yaml", tmp_path)
    proc = cli(tmp_path, "check", "tiny.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1] == "tiny.yaml: config and data OK; 83 jobs to run"
    proc = cli(tmp_path, "check", "tiny.yaml", "--config", "repetitions=2")  # passed on to snakemake
    assert proc.stdout.splitlines()[-1] == "tiny.yaml: config and data OK; 159 jobs to run", proc.stderr[-3000:]


def test_a_missing_or_broken_config_is_one_line(tmp_path):
    assert one_line(cli(tmp_path, "check", "nope.yaml")) == (
        f"guided-retraining: config error: config file nope.yaml: not found (a path is taken from the current"
        f" directory, {tmp_path})")
    (tmp_path / "bad.yaml").write_text("seed: 0\n  results: x\n")
    assert one_line(cli(tmp_path, "run", "bad.yaml")).startswith(
        "guided-retraining: config error: config file bad.yaml: not valid YAML at line 2, column 10")


def test_missing_data_is_one_line(tmp_path):
    (tmp_path / "c.yaml").write_text(
        (CONFIGS / "tiny.yaml").read_text().replace("loader: digits", "loader: mnist\n    root: absent"))
    line = one_line(cli(tmp_path, "check", "c.yaml"))
    assert line.startswith(f"guided-retraining: config error: mnist: {tmp_path}/absent: expected"), line


def test_run_passes_targets_and_options_to_snakemake(tmp_path):
    """A real run of one job (the tiny study's data preparation)."""
    shutil.copy(CONFIGS / "tiny.yaml", tmp_path)
    proc = cli(tmp_path, "run", "tiny.yaml", "--cores", "1", "results/digits/data.npz")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "results/digits/data.npz").is_file() and not (tmp_path / "results/digits/r1").exists()


def test_summary_prints_the_file_or_says_why_not(tmp_path):
    shutil.copy(CONFIGS / "tiny.yaml", tmp_path)
    line = one_line(cli(tmp_path, "summary", "tiny.yaml", "-n"))  # a dry run writes nothing
    assert line.startswith("guided-retraining: error: results/summary.md: not found and could not be built ("), line
    assert line.endswith("; run guided-retraining run tiny.yaml first")
    (tmp_path / "results").mkdir()
    (tmp_path / "results/summary.md").write_text("# Summary\n\nC2 with DeepGini beats random.\n")
    proc = cli(tmp_path, "summary", "tiny.yaml")
    assert proc.returncode == 0 and proc.stdout == "# Summary\n\nC2 with DeepGini beats random.\n"


def test_report_of_a_finished_run(tiny_run):
    proc = cli(tiny_run, "report", "tiny.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "guided-retraining: report written to results/report.html"
    assert (tiny_run / "results/report.html").stat().st_size > 100_000


def test_a_script_alone_uses_the_copy_it_is_in(clean_copy):  # noqa: F811
    """``python scripts/prepare.py TARGET`` in a copy of the repository runs that copy's Snakefile and default config
    (its seed changed here), not those of the package installed elsewhere."""
    default = clean_copy / "config/config.yaml"
    default.write_text(default.read_text().replace("seed: 0 ", "seed: 7 ", 1))
    proc = subprocess.run([sys.executable, "scripts/prepare.py", "results/digits/data.npz"], cwd=clean_copy,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    assert json.loads((clean_copy / "results/digits/data.json").read_text())["seed"] == 7
