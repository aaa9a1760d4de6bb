"""Two GPU runs and one CPU run of a study: are the GPU tables byte-identical, and how far from the CPU's?

    python benchmarks/gpu_determinism.py [--configfile config/config.yaml] [--cores 8] [--out DIR]
                                         [--skip-cpu]

Runs the study three times from the repository root, each in its own working directory under
``--out`` (default: a new temporary directory): ``gpu1`` and ``gpu2`` with ``device: cuda`` and
``deterministic: true`` added to the config, ``cpu`` with ``device: cpu``. Prints:
- each run's wall time and the hardware its first result JSON records (GPU model, CUDA, cuDNN,
  driver, torch, the determinism flags);
- per table (``results/tables/*.csv``; Table 5 and retraining_time hold wall times and are left out): whether gpu1 and
  gpu2 are byte-identical, and for gpu1 against cpu the cells that differ and the largest absolute
  difference of the numeric columns.
Needs a CUDA GPU (the GPU runs stop before any job without one). docs/gpus.md quotes
its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(name: str, out: Path, configfile: Path, overlay: dict, cores: int) -> float:
    import yaml

    workdir = out / name
    workdir.mkdir(parents=True, exist_ok=True)
    extra = workdir / "overlay.yaml"
    extra.write_text(yaml.safe_dump(overlay))
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--directory", str(workdir),
           "--configfile", str(configfile.resolve()), str(extra)]
    start = time.perf_counter()
    env = {**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", "/dev/null")}
    subprocess.run(cmd, cwd=REPO, check=True, env=env)
    seconds = time.perf_counter() - start
    first = sorted((workdir / "results").rglob("train.json"))[0]
    print(f"{name}: {seconds:.0f} s; hardware {json.dumps(json.loads(first.read_text())['hardware'])}")
    return seconds


def compare(out: Path, runs: list[str]) -> None:
    import numpy as np
    import pandas as pd

    timed = {"table5.csv", "retraining_time.csv"}  # measured wall and CPU times: never identical
    tables = sorted(p.name for p in (out / runs[0] / "results/tables").glob("*.csv") if p.name not in timed)
    for name in tables:
        a, b = (out / r / "results/tables" / name for r in runs[:2])
        same = a.read_bytes() == b.read_bytes()
        line = f"{name}: {runs[0]} vs {runs[1]} {'byte-identical' if same else 'DIFFER'}"
        if "cpu" in runs:
            x = pd.read_csv(a)
            y = pd.read_csv(out / "cpu/results/tables" / name)
            if x.shape != y.shape:
                line += f"; vs cpu: shapes {x.shape} and {y.shape}"
            else:
                cells = int((x.astype(object).fillna("NA").astype(str) != y.astype(object).fillna("NA").astype(str))
                            .to_numpy().sum())
                num = x.select_dtypes("number").columns.intersection(y.select_dtypes("number").columns)
                diff = float(np.nanmax(np.abs(x[num].to_numpy(float) - y[num].to_numpy(float)))) if len(num) else 0.0
                line += f"; vs cpu: {cells} of {x.size} cells differ, largest numeric difference {diff:.4g}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--cores", type=int, default=8)
    parser.add_argument("--out", help="working directories go here (default: a new temporary directory)")
    parser.add_argument("--skip-cpu", action="store_true", help="only the two GPU runs")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="gr-gpu-"))
    configfile = Path(args.configfile)
    runs = ["gpu1", "gpu2"] + ([] if args.skip_cpu else ["cpu"])
    for name in runs:
        device = "cpu" if name == "cpu" else "cuda"
        run(name, out, configfile, {"device": device, "deterministic": True}, args.cores)
    compare(out, runs)
    print(f"working directories: {out}")


if __name__ == "__main__":
    main()
