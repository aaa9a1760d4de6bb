"""A real one-node SLURM cluster runs a tiny Snakemake workflow through the
SLURM executor plugin and workflow/profiles/slurm.

Needs root and .ci/install-slurm.sh; skipped otherwise.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slurm_cluster  # noqa: E402

pytestmark = pytest.mark.slurm

_OK, _WHY = slurm_cluster.slurm_available()

SNAKEFILE = r'''
import os

rule all:
    input: "results/c.txt"

rule a:
    output: "results/a.txt"
    resources: mem_mb=100, runtime=5
    run:
        with open(output[0], "w") as fh:
            fh.write(f"{os.environ.get('SLURM_JOB_ID', 'none')}\n")

rule b:
    input: "results/a.txt"
    output: "results/b.txt"
    resources: mem_mb=100, runtime=5
    shell: "echo ${{SLURM_JOB_ID:-none}} > {output}"

rule c:
    input: "results/a.txt", "results/b.txt"
    output: "results/c.txt"
    threads: 2
    resources: mem_mb=200, runtime=5
    run:
        job = os.environ.get("SLURM_JOB_ID", "none")
        with open(output[0], "w") as fh:
            fh.write(f"{job} {threads}\n")
'''

# what the real workflow's workflow/profiles/default holds for local runs;
# --workflow-profile <slurm profile> must replace it
LOCAL_DEFAULT_PROFILE = "cores: 2\nforce-use-threads: true\n"


def _slurm_daemons() -> list[str]:
    out = subprocess.run(["pgrep", "-a", "-x", "slurmctld|slurmd"],
                         text=True, capture_output=True).stdout
    return [line for line in out.splitlines() if line.strip()]


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


@pytest.mark.skipif(not _OK, reason=_WHY or "SLURM available")
def test_workflow_runs_through_sbatch(cluster, tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    (tmp_path / "profiles" / "default").mkdir(parents=True)
    (tmp_path / "profiles" / "default" / "config.yaml").write_text(
        LOCAL_DEFAULT_PROFILE)

    sinfo = cluster.run("sinfo", "-h", "-o", "%P %T %c %m").stdout.split()
    assert sinfo[:2] == ["debug*", "idle"], sinfo

    cmd = slurm_cluster.snakemake_slurm_command(
        "--snakefile", str(tmp_path / "Snakefile"),
        "--directory", str(tmp_path))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp_path, env=cluster.env, text=True,
                          capture_output=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - t0
    print(f"snakemake on SLURM: {elapsed:.1f}s "
          f"(cluster start {cluster.start_seconds:.1f}s)")
    assert proc.returncode == 0, (
        f"snakemake failed ({proc.returncode})\n{proc.stderr[-6000:]}\n"
        f"{cluster.log_tail()}")

    # every job of the workflow got a SLURM job id ...
    log = proc.stderr
    submitted = dict(re.findall(
        r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    assert len(submitted) == 3, log[-4000:]
    slurm_ids = set(submitted.values())
    assert len(slurm_ids) == 3
    logs = list((tmp_path / ".snakemake" / "log").glob("*.snakemake.log"))
    assert logs and all(f"SLURM jobid {i}" in logs[-1].read_text()
                        for i in slurm_ids)
    # ... ran inside that SLURM job ...
    a = (tmp_path / "results" / "a.txt").read_text().strip()
    b = (tmp_path / "results" / "b.txt").read_text().strip()
    c_job, c_cpus = (tmp_path / "results" / "c.txt").read_text().split()
    assert {a, b, c_job} == slurm_ids
    assert c_cpus == "2"  # threads: 2 -> --cpus-per-task=2
    slurm_logs = {p.stem for p in
                  (tmp_path / ".snakemake" / "slurm_logs").rglob("*.log")}
    assert slurm_ids <= slurm_logs, slurm_logs
    # SLURM itself saw the jobs finish (squeue keeps them MinJobAge seconds)
    # with the memory (MB, per node) and CPUs the rules asked for
    q = cluster.run("squeue", "-h", "-t", "all", "-o", "%i %T %m %C").stdout
    jobs = {line.split()[0]: line.split()[1:] for line in q.splitlines()}
    assert jobs[a] == ["COMPLETED", "100M", "1"], q
    assert jobs[b] == ["COMPLETED", "100M", "1"], q
    assert jobs[c_job] == ["COMPLETED", "200M", "2"], q

    # a second run finds nothing to do and submits nothing
    proc2 = subprocess.run(cmd, cwd=tmp_path, env=cluster.env, text=True,
                           capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
    assert proc2.returncode == 0, proc2.stderr[-3000:]
    assert "submitted with SLURM jobid" not in proc2.stderr


@pytest.mark.skipif(not _OK, reason=_WHY or "SLURM available")
def test_cluster_stops_cleanly(tmp_path):
    """A cluster of its own: start, stop, and no daemon survives."""
    before = _slurm_daemons()
    c = slurm_cluster.start_cluster(tmp_path)
    try:
        assert c.run("sinfo", "-h", "-o", "%T").stdout.strip() == "idle"
        jid = c.run("sbatch", "--parsable", "-t", "5", "--mem=50",
                    "-D", str(tmp_path), "-o", str(tmp_path / "sleep-%j.out"),
                    "--wrap", "sleep 300").stdout.strip()
        assert jid.isdigit()
    finally:
        slurm_cluster.stop_cluster(c)
    assert not slurm_cluster.daemons_running(c)
    assert _slurm_daemons() == before
    assert not any(p.exists() for p in c.pid_files.values())
    assert not c.munge_socket.parent.exists()
