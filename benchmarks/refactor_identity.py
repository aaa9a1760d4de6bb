"""Wall time and identical tables of the default study at two revisions (issue 24: the refactor keeps behaviour).

    python benchmarks/refactor_identity.py REV_BEFORE REV_AFTER [--cores 2] [--configfile FILE] [--keep DIR]

For each revision, one after the other: a clean clone of this repository checked out at that revision, and there,
from the clone's root, `snakemake --cores N` (the README's command; the local profile found by Snakemake itself)
with PYTHONPATH set to the clone's src/ (so the clone's library runs, not an installed copy). Prints each wall
time, the job count, and whether every file under results/tables/ is identical between the two runs:
CSV and Markdown byte for byte, each table's provenance JSON without `versions` and `hardware` (the machine, not
the result), and the tables holding wall and CPU times (table5, retraining_time) by their CSVs without the time
columns (tests/table_identity.py says exactly which). Takes about 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from table_identity import TIME_COLUMNS, TIMED, differences  # noqa: E402


def run(rev: str, root: Path, cores: int, configfiles: list[str]) -> tuple[float, int, str]:
    """Clone at ``rev`` into ``root``, run the study there; (wall seconds, jobs, commit)."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(root)], check=True)
    subprocess.run(["git", "checkout", "--quiet", rev], cwd=root, check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                            check=True).stdout.strip()
    cmd = ["snakemake", "--cores", str(cores)] + [a for c in configfiles for a in ("--configfile", c)]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root, env=env)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{rev}: the study failed:\n{proc.stderr[-3000:]}")
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", proc.stderr)
    return wall, int(done[-1][1]) if done else -1, commit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="git revision before the change (e.g. e5bc184)")
    parser.add_argument("after", help="git revision after the change (e.g. ruleparams)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", action="append", default=[], help="a config, as for snakemake (repeatable)")
    parser.add_argument("--keep", help="clone into DIR/before and DIR/after and keep them")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gr-identity-"))
    configs = [str(Path(c).resolve()) for c in args.configfile]
    runs = {}
    for label, rev in (("before", args.before), ("after", args.after)):
        runs[label] = run(rev, base / label, args.cores, configs)
        wall, jobs, commit = runs[label]
        print(f"{label}: {rev} ({commit}): {jobs} jobs, wall {wall:.1f} s (snakemake --cores {args.cores})")
    before, after = base / "before/results/tables", base / "after/results/tables"
    names_before = sorted(p.name for p in before.iterdir())
    names_after = sorted(p.name for p in after.iterdir())
    if names_before != names_after:
        print(f"tables differ in their files: only before {sorted(set(names_before) - set(names_after))}, "
              f"only after {sorted(set(names_after) - set(names_before))}")
    differ = differences(before, after, sorted(set(names_before) & set(names_after)))
    print(f"compared {len(names_before)} files under results/tables/ (time columns left out of "
          f"{', '.join(sorted(TIMED))}: /{TIME_COLUMNS.pattern}/; versions and hardware left out of the JSONs)")
    print("tables identical: " + ("yes" if not differ and names_before == names_after else f"no: {differ}"))
    print(f"wall time after / before: {runs['after'][0] / runs['before'][0]:.3f}")


if __name__ == "__main__":
    main()
