"""The single-node SLURM harness of the cluster tests starts and stops cleanly
(the real workflow through profiles/slurm: tests/test_slurm_workflow.py).

Needs root and .ci/install-slurm.sh; skipped otherwise.
"""

from __future__ import annotations

import subprocess

import pytest

import slurm_cluster

pytestmark = pytest.mark.slurm

_OK, _WHY = slurm_cluster.slurm_available()


def _slurm_daemons() -> list[str]:
    out = subprocess.run(["pgrep", "-a", "-x", "slurmctld|slurmd"],
                         text=True, capture_output=True).stdout
    return [line for line in out.splitlines() if line.strip()]


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
