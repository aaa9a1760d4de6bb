"""The real workflow through profiles/slurm on a real single-node SLURM.

Starts Debian's slurmctld, slurmd and munged with a generated slurm.conf (tests/slurm_cluster.py),
runs the micro study tests/configs/slurm.yaml, checks the tables and that every job went through
sbatch, then stops the daemons. Needs root and `bash .ci/install-slurm.sh`; skipped otherwise.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import slurm_cluster
from conftest import CONFIGS, REPO

from guided_retraining.tables import read_csv

pytestmark = pytest.mark.slurm
_OK, _WHY = slurm_cluster.slurm_available()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not _OK:
        pytest.skip(_WHY)
    c = slurm_cluster.start_cluster(tmp_path_factory.mktemp("slurm-cluster"))
    try:
        yield c
    finally:
        slurm_cluster.stop_cluster(c)
        assert not slurm_cluster.daemons_running(c)


def test_study_runs_through_sbatch(cluster, tmp_path):
    shutil.copy(CONFIGS / "slurm.yaml", tmp_path / "slurm.yaml")
    cmd = slurm_cluster.snakemake_slurm_command(
        "--directory", str(tmp_path),
        "--configfile", str(tmp_path / "slurm.yaml"), "--cores", "2", "--resources", "mem_mb=12000")
    proc = subprocess.run(cmd, cwd=REPO, env=cluster.env, text=True, capture_output=True, timeout=900,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{proc.stderr[-6000:]}\n{cluster.log_tail()}"

    # Every job but the local rules (order x 2, aggregate, training_curves, objectives, summary, report_pages)
    # ran inside a SLURM job: 6 single
    # jobs plus the 10 retrain jobs in one group job.
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", proc.stderr)
    assert len(submitted) == 7, proc.stderr[-4000:]
    q = cluster.run("squeue", "-h", "-t", "all", "-o", "%i %T").stdout.split("\n")
    states = dict(line.split() for line in q if line.strip())
    assert all(states.get(j) == "COMPLETED" for j in submitted), states
    logs = sorted((tmp_path / "results/logs").rglob("*.log"))
    assert len(logs) == 23  # 16 cluster jobs and the 7 local ones
    # A benchmark file (time, peak memory of the job's own process) per job run on the cluster.
    benchmarks = sorted((tmp_path / "results/benchmarks").rglob("*.tsv"))
    assert len(benchmarks) == 16 and all("max_rss" in b.read_text() for b in benchmarks)
    slurm_logs = {p.stem for p in (tmp_path / ".snakemake/slurm_logs").rglob("*.log")}
    assert set(submitted) <= slurm_logs

    t3 = read_csv(tmp_path / "results/tables/table3.csv")
    assert sorted(zip(t3.configuration, t3.metric)) == [
        ("C2", "deepgini"), ("C2", "random"), ("C3", "deepgini"), ("C3", "random")]
    t4 = read_csv(tmp_path / "results/tables/table4.csv")
    assert sorted(t4.metric) == ["deepgini", "random"] and (t4.inputs_C2 == 60).all()
    assert len(read_csv(tmp_path / "results/tables/table5.csv")) == 2
