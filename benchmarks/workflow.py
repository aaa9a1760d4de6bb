"""Wall time and per-job overhead of the README's main command on a clean clone.

    python benchmarks/workflow.py [--keep DIR]

Clones the repository's committed HEAD into a temporary directory (as a new user or CI gets it)
and runs there, from the clone's root, exactly the README's command `snakemake --cores 8` and
nothing else (no flags added: the local profile must be found by Snakemake itself). Prints:
- the profile Snakemake reported using, the wall time and the number of jobs per rule;
- the CPU time spent inside jobs (each job logs "done in X s (cpu Y s)", Y the CPU time of
  its thread; jobs run torch with one intra-op thread, so that is the job's work);
- the per-job overhead: (wall x CPUs - CPU time in jobs) / jobs, the scheduling,
  bookkeeping, lock waiting and idle time each job costs beyond its own work;
- for comparison, the start-up of one fresh Python process importing what a job needs
  (what each job would pay if it ran as its own process);
- the versions it ran with (Python, Snakemake, torch).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README_COMMAND = "snakemake --cores 8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="clone into this (new) directory and keep it")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gr-bench-")) / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(workdir)], check=True)
    cmd = README_COMMAND.split()
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"workflow failed:\n{proc.stderr[-3000:]}")
    profile = next((line for line in proc.stderr.splitlines() if "profile" in line), "no profile reported")
    per_rule = cpu_per_rule(workdir / "results/logs")
    jobs = sum(len(v) for v in per_rule.values())
    inside = sum(sum(v) for v in per_rule.values())
    cpus = min(8, os.cpu_count() or 1)
    startup = _fresh_process_startup()
    import snakemake, torch

    print(f"command: {README_COMMAND} (in a clean clone of {REPO}); CPUs {os.cpu_count()}; {profile}")
    print(f"versions: Python {sys.version.split()[0]}, Snakemake {snakemake.__version__}, torch {torch.__version__}")
    print(f"{'rule':<16}{'jobs':>6}{'mean cpu s':>12}{'total cpu s':>12}")
    for rule, times in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:<16}{len(times):>6}{sum(times) / len(times):>12.2f}{sum(times):>12.1f}")
    print(f"jobs (without 'all'): {jobs}")
    print(f"wall time: {wall:.1f} s ({wall / 60:.1f} min)")
    print(f"CPU time inside jobs: {inside:.1f} s")
    print(f"per-job overhead: ({wall:.1f} s x {cpus} CPUs - {inside:.1f} s CPU in jobs) / {jobs} jobs = "
          f"{(wall * cpus - inside) / jobs:.3f} s")
    print(f"a fresh process importing torch, torchattacks, pandas, scikit-learn would cost {startup:.2f} s per job"
          f" ({startup * jobs / cpus / 60:.1f} min over {cpus} CPUs)")
    if not args.keep:
        shutil.rmtree(workdir.parent)


def cpu_per_rule(logs: Path) -> dict[str, list[float]]:
    """Rule -> the CPU seconds of each of its jobs, from the jobs' logs ("done in X s (cpu Y s)")."""
    per_rule: dict[str, list[float]] = collections.defaultdict(list)
    for log in logs.rglob("*.log"):
        text = log.read_text()
        rule = re.search(r"INFO rule (\w+),", text)
        done = re.search(r"done in ([0-9.]+) s \(cpu ([0-9.]+) s\)", text)
        if rule and done:
            per_rule[rule.group(1)].append(float(done.group(2)))
    return per_rule


def _fresh_process_startup() -> float:
    code = "import torch, torchattacks, pandas, sklearn, guided_retraining.training"
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
