import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = Path(__file__).resolve().parent / "configs"


def snakemake(workdir: Path, *args: str, configfile: Path | None = None, profile: str = "default",
              check: bool = True, env: dict | None = None, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Run the real workflow of this repository with ``workdir`` as its working directory."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--workflow-profile", str(REPO / "workflow" / "profiles" / profile)]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The tiny study run once end to end; returns its working directory."""
    workdir = tmp_path_factory.mktemp("tiny")
    shutil.copy(CONFIGS / "tiny.yaml", workdir / "tiny.yaml")
    snakemake(workdir, "--cores", "2", configfile=workdir / "tiny.yaml")
    return workdir
