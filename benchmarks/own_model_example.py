"""Wall time of the worked example config/example-own-model.yaml (a user's ResNet on an image folder).

    python benchmarks/own_model_example.py [--cores 2] [--per-class 60] [--keep DIR]

Writes the example's image folder (data/shapes/: four shape classes of 32x32 colour PNGs, what
``python -m guided_retraining.example_data`` writes) and its model file (config/example_model.py) into a fresh working
directory, runs the whole example study there from the repository root as a user does
(``snakemake --cores N --configfile config/example-own-model.yaml --directory DIR``), and prints
the wall time, the CPU time inside jobs per rule, and the original model's accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def main() -> None:
    from workflow import cpu_per_rule

    from guided_retraining.example_data import write_shapes_folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--keep", help="run in this directory and keep it")
    args = parser.parse_args()
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gr-own-"))
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config/example_model.py", workdir / "config")
    write_shapes_folder(workdir / "data/shapes", per_class=args.per_class)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(args.cores), "--configfile",
           "config/example-own-model.yaml", "--directory", str(workdir)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"workflow failed:\n{proc.stderr[-3000:]}")
    per_rule = cpu_per_rule(workdir / "results/logs")
    print(f"command: {' '.join(cmd[2:])}; CPUs {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end")
    for rule, times in sorted(per_rule.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:<16}{len(times):>6} jobs{sum(times):>10.1f} s cpu")
    print(f"jobs: {sum(len(v) for v in per_rule.values())}; wall time {wall:.1f} s ({wall / 60:.1f} min); "
          f"CPU time inside jobs {sum(sum(v) for v in per_rule.values()):.1f} s")
    original = json.loads((workdir / "results/shapes/r1/original/train.json").read_text())
    attack = json.loads((workdir / "results/shapes/r1/fgsm/attack.json").read_text())
    print(f"original model: Test {original['acc_test']:.3f}, Adv.Test (FGSM) {attack['original_acc_adv_test']:.3f}")
    print((workdir / "results/tables/table3.md").read_text())
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "benchmarks"))
    main()
