"""A throw-away single-node SLURM cluster for tests.

``start_cluster(workdir)`` starts munged, slurmctld and slurmd as children of
the calling process, every file of theirs (config, state, spool, logs, pid
files, munge key) under *workdir* except the munge socket (munged demands
that every directory above its socket be executable by all, which pytest's
0700 ``/tmp/pytest-of-root`` is not, so the socket lives in a short-lived
0755 directory under /tmp).  Nothing system-wide is touched: no
/etc/slurm/slurm.conf, no /etc/munge key, no system munged.

Clients (sbatch, squeue, scontrol, srun inside jobs, Snakemake's SLURM
executor plugin) find the cluster through ``SLURM_CONF``; pass
``cluster.env`` (a full environment) to every subprocess that talks to
SLURM.  Never leave ``SLURM_CONF`` set in an environment after
``stop_cluster``: with a slurm.conf that names a dead controller every
``snakemake`` start stalls about 10 s (see docs/slurm.md), and with a
``SLURM_CONF`` naming a removed file ``scontrol`` hangs for about 60 s.

Needs root and Debian's slurmctld, slurmd, slurm-client and munge packages
(``.ci/install-slurm.sh``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SLURM_PROFILE = REPO_ROOT / "profiles" / "slurm"
# options that make a test run on the one-node cluster fast; a real cluster
# keeps the profile's values
FAST_TEST_ARGS = ("--slurm-init-seconds-before-status-checks", "2",
                  "--latency-wait", "5")

REQUIRED_BINARIES = ("slurmctld", "slurmd", "munged", "mungekey", "sbatch",
                     "squeue", "sinfo", "scontrol", "scancel", "srun")
CLUSTER_NAME = "grtest"
PARTITION = "debug"


@dataclass
class Cluster:
    workdir: Path
    conf: Path
    node: str
    partition: str
    cpus: int
    real_memory_mb: int
    munge_socket: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    pid_files: dict[str, Path] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    start_seconds: float = 0.0
    stopped: bool = False

    def run(self, *cmd: str, check: bool = True, timeout: float = 30,
            ) -> subprocess.CompletedProcess:
        """Run a SLURM client command against this cluster."""
        return subprocess.run(list(cmd), env=self.env, text=True,
                              capture_output=True, check=check,
                              timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for name, path in self.logs.items():
            try:
                text = path.read_text(errors="replace").splitlines()
            except OSError as exc:
                text = [f"<unreadable: {exc}>"]
            out.append(f"----- {name}: {path} (last {lines} lines) -----")
            out.extend(text[-lines:])
        return "\n".join(out)


def slurm_available() -> tuple[bool, str]:
    """(True, "") when a test cluster can be started here, else (False, why)."""
    if os.name != "posix" or not hasattr(os, "geteuid"):
        return False, "SLURM test cluster needs Linux"
    if os.geteuid() != 0:
        return False, "SLURM test cluster needs root (slurmd runs jobs as root)"
    missing = [b for b in REQUIRED_BINARIES if shutil.which(b) is None]
    if missing:
        return False, ("SLURM binaries missing: " + ", ".join(missing)
                       + " (run .ci/install-slurm.sh)")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return False, ("snakemake-executor-plugin-slurm not installed "
                       "(run .ci/install-slurm.sh)")
    return True, ""


# ---------------------------------------------------------------- helpers

def _short_hostname() -> str:
    out = subprocess.run(["hostname", "-s"], text=True, capture_output=True)
    name = out.stdout.strip() if out.returncode == 0 else ""
    return name or socket.gethostname().split(".")[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        p = _free_port()
        if p not in ports:
            ports.append(p)
    return ports


def _total_memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("MemTotal not found in /proc/meminfo")


def _node_hardware() -> dict[str, int]:
    """Topology as slurmd sees it (``slurmd -C``), memory from /proc."""
    hw = {"CPUs": os.cpu_count() or 1}
    try:
        out = subprocess.run(["slurmd", "-C"], text=True, capture_output=True,
                             timeout=20).stdout
        first = out.splitlines()[0] if out else ""
        for tok in first.split():
            key, _, val = tok.partition("=")
            if key in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket",
                       "ThreadsPerCore", "RealMemory") and val.isdigit():
                hw[key] = int(val)
    except (OSError, subprocess.SubprocessError, IndexError):
        pass
    total = min(hw.get("RealMemory", 10**9), _total_memory_mb())
    # a little below the real size: slurmd drains a node whose configured
    # RealMemory exceeds what it measures.
    hw["RealMemory"] = max(256, total - max(256, total // 50))
    return hw


def _write_conf(cluster_dir: Path, node: str, hw: dict[str, int],
                munge_socket: Path, ports: list[int],
                cgroups: bool = False) -> Path:
    d = cluster_dir
    if cgroups:
        proctrack, task = "proctrack/cgroup", "task/cgroup"
        (d / "cgroup.conf").write_text(
            "CgroupPlugin=autodetect\nConstrainCores=yes\n"
            "ConstrainRAMSpace=yes\n")
    else:
        proctrack, task = "proctrack/linuxproc", "task/none"
    topo = " ".join(f"{k}={hw[k]}" for k in
                    ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket",
                     "ThreadsPerCore") if k in hw)
    conf = f"""\
# generated by tests/slurm_cluster.py -- single node test cluster
ClusterName={CLUSTER_NAME}
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
MpiDefault=none
ProctrackType={proctrack}
TaskPlugin={task}
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# squeue must still show finished jobs when Snakemake polls (the slurm
# executor plugin falls back to sacct, which fails without accounting,
# when MinJobAge < 3 * slurm-init-seconds-before-status-checks)
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={d}/plugstack.conf
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName={node} NodeAddr=127.0.0.1 {topo} RealMemory={hw['RealMemory']} State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""
    path = d / "slurm.conf"
    path.write_text(conf)
    (d / "plugstack.conf").write_text("")  # ignore /etc/slurm/plugstack.conf
    return path


CLIENT_COMMANDS = ("srun", "sbatch", "squeue", "scontrol", "scancel",
                   "sinfo", "sacct", "salloc")


def _client_wrappers(cluster_dir: Path, conf: Path) -> Path:
    bindir = cluster_dir / "bin"
    bindir.mkdir(exist_ok=True)
    for name in CLIENT_COMMANDS:
        real = shutil.which(name)
        if real is None:
            continue
        w = bindir / name
        w.write_text(f"#!/bin/sh\nSLURM_CONF='{conf}' exec '{real}' \"$@\"\n")
        w.chmod(0o755)
    return bindir


def _popen(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    fh = open(log, "ab")
    try:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fh,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    finally:
        fh.close()


def _wait_for(pred, timeout: float, interval: float = 0.25) -> bool:
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(interval)


def _node_state(cluster: Cluster) -> str:
    try:
        r = cluster.run("sinfo", "-h", "-N", "-n", cluster.node, "-o", "%T",
                        check=False, timeout=15)
    except subprocess.TimeoutExpired:
        return ""
    return r.stdout.strip() if r.returncode == 0 else ""


# ------------------------------------------------------------ start / stop

def start_cluster(workdir: Path, timeout: float = 60.0,
                  cgroups: bool = False) -> Cluster:
    """Start munged, slurmctld and slurmd; return once the node is idle.

    By default processes are tracked without cgroups (proctrack/linuxproc,
    task/none): memory requests are honoured by the scheduler
    (CR_Core_Memory) but not enforced.  ``cgroups=True`` uses
    proctrack/cgroup + task/cgroup with ConstrainRAMSpace/ConstrainCores
    (works on this project's machines, which mount cgroup v1; may not in
    other containers).

    Raises RuntimeError (with the daemons' log tails) when the node does not
    become idle within *timeout* seconds; the daemons are stopped first.
    """
    ok, why = slurm_available()
    if not ok:
        raise RuntimeError(why)
    t0 = time.monotonic()
    workdir = Path(workdir).resolve()
    d = workdir / "slurm"
    for sub in ("state", "spool", "munge"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(d / "munge", 0o700)

    # munge: own key and socket, never the system's
    key = d / "munge" / "munge.key"
    if not key.exists():
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"],
                       check=True, capture_output=True)
    os.chmod(key, 0o400)
    sock_dir = Path(tempfile.mkdtemp(prefix="gr-munge-", dir="/tmp"))
    os.chmod(sock_dir, 0o755)
    munge_socket = sock_dir / "munge.sock"

    node = _short_hostname()
    hw = _node_hardware()
    conf = _write_conf(d, node, hw, munge_socket, _free_ports(2), cgroups)

    env = dict(os.environ)
    env["SLURM_CONF"] = str(conf)
    # snakemake-executor-plugin-slurm-jobstep (0.6.x) drops every SLURM_*
    # variable, SLURM_CONF included, before its nested `srun` inside the
    # batch job; that srun then finds no config (no /etc/slurm/slurm.conf
    # here) and dies with "Could not establish a configuration source".
    # Wrappers first on PATH (which jobs inherit via sbatch --export=ALL)
    # pin SLURM_CONF for every client command.
    env["PATH"] = f"{_client_wrappers(d, conf)}{os.pathsep}{env.get('PATH', '')}"
    # never let settings of a real cluster leak into the test jobs
    for k in list(env):
        if k.startswith(("SBATCH_", "SALLOC_", "SRUN_", "SQUEUE_",
                         "SLURM_")) and k != "SLURM_CONF":
            del env[k]

    cluster = Cluster(
        workdir=workdir, conf=conf, node=node, partition=PARTITION,
        cpus=hw["CPUs"], real_memory_mb=hw["RealMemory"],
        munge_socket=munge_socket, env=env,
        pid_files={"munged": d / "munge" / "munged.pid",
                   "slurmctld": d / "slurmctld.pid",
                   "slurmd": d / "slurmd.pid"},
        logs={"munged": d / "munge" / "munged.log",
              "slurmctld": d / "slurmctld.log",
              "slurmd": d / "slurmd.log"},
    )
    try:
        cluster.procs["munged"] = _popen(
            ["munged", "--foreground", f"--socket={munge_socket}",
             f"--key-file={key}", f"--pid-file={cluster.pid_files['munged']}",
             f"--log-file={cluster.logs['munged']}",
             f"--seed-file={d / 'munge' / 'munged.seed'}"],
            d / "munge" / "munged.out", env)
        if not _wait_for(lambda: munge_socket.exists()
                         or cluster.procs["munged"].poll() is not None, 15):
            raise RuntimeError("munged did not create its socket")
        if cluster.procs["munged"].poll() is not None:
            raise RuntimeError("munged exited with code "
                               f"{cluster.procs['munged'].returncode}")

        # -D: foreground (we own the process); -i: ignore stale state
        cluster.procs["slurmctld"] = _popen(
            ["slurmctld", "-D", "-i", "-f", str(conf)],
            d / "slurmctld.out", env)
        cluster.procs["slurmd"] = _popen(
            ["slurmd", "-D", "-f", str(conf), "-N", node],
            d / "slurmd.out", env)

        def idle() -> bool:
            for name, p in cluster.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {p.returncode}")
            return _node_state(cluster).startswith("idle")

        if not _wait_for(idle, timeout, interval=0.5):
            raise RuntimeError(
                f"node {node} not idle after {timeout:.0f}s "
                f"(state {_node_state(cluster)!r})")
    except Exception as exc:
        state = cluster.log_tail()
        for extra in ("slurmctld.out", "slurmd.out", "munge/munged.out"):
            p = d / extra
            if p.exists() and p.stat().st_size:
                state += f"\n----- {p} -----\n" + p.read_text(errors="replace")[-3000:]
        stop_cluster(cluster)
        raise RuntimeError(f"SLURM test cluster failed to start: {exc}\n"
                           f"{state}") from exc
    cluster.start_seconds = time.monotonic() - t0
    # safety net should the caller never reach stop_cluster (idempotent)
    atexit.register(stop_cluster, cluster)
    return cluster


def _terminate(proc: subprocess.Popen | None, pid_file: Path,
               grace: float) -> None:
    pid = None
    if proc is not None:
        pid = proc.pid if proc.poll() is None else None
    elif pid_file.exists():
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, OSError):
            pid = None
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pid = None
    if pid is not None:
        def gone() -> bool:
            if proc is not None:
                return proc.poll() is not None
            try:
                os.kill(pid, 0)
                return False
            except OSError:
                return True
        if not _wait_for(gone, grace, 0.1):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc is not None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
    elif proc is not None:
        proc.poll()
    try:
        pid_file.unlink()
    except FileNotFoundError:
        pass


def stop_cluster(cluster: Cluster, grace: float = 20.0) -> None:
    """Cancel all jobs, then stop slurmd, slurmctld and munged.

    SIGTERM first, SIGKILL only after *grace* seconds; pid files and the
    munge socket directory are removed.  Safe to call twice.
    """
    if cluster.stopped:
        return
    ctld = cluster.procs.get("slurmctld")
    if ctld is not None and ctld.poll() is None:
        try:
            cluster.run("scancel", "--full", "-u", "root", check=False,
                        timeout=15)
            # let running jobs be killed before slurmd goes away
            _wait_for(lambda: not cluster.run(
                "squeue", "-h", "-t", "RUNNING,COMPLETING", check=False,
                timeout=15).stdout.strip(), 15, 0.5)
        except (subprocess.SubprocessError, OSError):
            pass
    for name in ("slurmd", "slurmctld", "munged"):
        _terminate(cluster.procs.get(name), cluster.pid_files[name], grace)
    # slurmstepd processes of killed jobs, should any survive
    _kill_leftover_stepd(cluster)
    sock_dir = cluster.munge_socket.parent
    if sock_dir.name.startswith("gr-munge-"):
        shutil.rmtree(sock_dir, ignore_errors=True)
    cluster.stopped = True


def _kill_leftover_stepd(cluster: Cluster) -> None:
    spool = str(cluster.workdir / "slurm" / "spool")
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
            if not cmd or not cmd[0].endswith(b"slurmstepd"):
                continue
            environ = (p / "environ").read_bytes()
        except OSError:
            continue
        if str(cluster.conf).encode() in environ or spool.encode() in environ:
            try:
                os.kill(int(p.name), signal.SIGKILL)
            except OSError:
                pass


def daemons_running(cluster: Cluster) -> list[str]:
    """Names of this cluster's daemons whose processes are still alive."""
    return [n for n, p in cluster.procs.items() if p.poll() is None]


def snakemake_slurm_command(*args: str, profile: Path = SLURM_PROFILE,
                            fast: bool = True) -> list[str]:
    """``snakemake`` command line that runs through the SLURM profile.

    The profile goes in as ``--workflow-profile``: that replaces the
    workflow's own ``profiles/default`` (local settings such as
    ``--force-use-threads``/``cores``), which Snakemake would otherwise load
    on top of a ``--profile`` and let win.  Run it with ``env=cluster.env``.
    """
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", str(profile)]
    if fast:
        cmd += list(FAST_TEST_ARGS)
    return cmd + list(args)
