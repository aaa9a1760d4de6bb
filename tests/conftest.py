import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = Path(__file__).resolve().parent / "configs"


class Files(SimpleNamespace):
    """Snakemake's named lists (a job's input and output): attribute and item access."""

    def __getitem__(self, key):
        return getattr(self, key)


def script(name: str):
    """The module of ``scripts/{name}.py``, loaded as a rule loads it (its ``main(job, log)`` called by tests)."""
    sys.path.insert(0, str(REPO / "workflow" / "lib"))  # the workflow's job plumbing, beside the rules
    from jobs import load_script

    return load_script(REPO / "scripts" / f"{name}.py")


def snakemake(workdir: Path, *args: str, configfile: Path | None = None, profile: str = "default",
              check: bool = True, env: dict | None = None, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run the real workflow as a user does: from the repository root, with ``workdir`` as the working
    directory (``--directory``); the local profile is found by Snakemake itself (profiles/default),
    another profile is named as a user names it (``--workflow-profile profiles/slurm``)."""
    cmd = [sys.executable, "-m", "snakemake", "--directory", str(workdir)]
    if profile != "default":
        cmd += ["--workflow-profile", f"profiles/{profile}"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def digits_data():
    """scikit-learn's digits in [0, 1], NCHW float32: (x_train, y_train, x_test, y_test), 1200 for training."""
    import numpy as np
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    return x[:1200], y[:1200], x[1200:], y[1200:]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny study run once end to end; returns its working directory."""
    workdir = tmp_path_factory.mktemp("tiny")
    shutil.copy(CONFIGS / "tiny.yaml", workdir / "tiny.yaml")
    proc = snakemake(workdir, "--cores", "2", configfile=workdir / "tiny.yaml")
    (workdir / "snakemake.out").write_text(proc.stdout + proc.stderr)  # what the run printed (tests/test_summary.py)
    return workdir


# The one-job rules that follow any change of the results: the tables and figures, the summary and the report's pages
AFTER_RESULTS = {"aggregate": 1, "objectives": 1, "summary": 1, "report_pages": 1}


def dry_run_jobs(workdir: Path, configfile: Path | None, *args: str) -> list[tuple[str, dict]]:
    """(rule, wildcards) of every job a dry run of ``configfile`` (and snakemake ``args``) in ``workdir`` would
    run ('all' left out)."""
    import re

    proc = snakemake(workdir, "-n", "--cores", "2", *args, configfile=configfile)
    text = proc.stdout + proc.stderr
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        m = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not m or m.group(1) == "all":
            continue
        wc = re.search(r"wildcards: (.*)", block)
        wildcards = dict(kv.split("=", 1) for kv in wc.group(1).split(", ")) if wc else {}
        jobs.append((m.group(1), wildcards))
    return jobs


def write_config(path: Path, change) -> Path:
    """Copy tests/configs/tiny.yaml to ``path`` after applying ``change(config_dict)``."""
    import yaml

    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture()
def clean_registries(monkeypatch):
    """The registries as the package declares them, restored after the test (a plugin's names do not leak)."""
    from guided_retraining import attacks, datasets, table_registry
    from guided_retraining.metrics import registry

    for module, names in ((datasets, ["LOADERS"]), (attacks, ["ATTACKS"]), (registry, ["METRICS", "METRIC_OPTIONS"]),
                          (table_registry, ["TABLES"])):
        for name in names:
            monkeypatch.setattr(module, name, dict(getattr(module, name)))
    for name in ("LAYER_METRICS", "MODEL_METRICS", "ORDER_METRICS"):
        monkeypatch.setattr(registry, name, set(getattr(registry, name)))
    monkeypatch.setattr(datasets, "DOWNLOADS", datasets.DOWNLOADS)
    yield
    for name in [n for n in sys.modules if n.startswith("guided_retraining_plugin_")]:
        del sys.modules[name]  # loaded again by the next test that loads it
