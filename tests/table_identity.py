"""Compare two results/tables/ folders file by file (tests/test_refactor_identity.py, benchmarks/refactor_identity.py).

CSV and Markdown files are compared byte for byte. A table's provenance JSON is compared byte for byte once
``versions`` and ``hardware`` are left out: they describe the machine and packages that wrote it, not the result.
The tables in TIMED hold wall and CPU times, which differ from run to run: their CSVs are compared without the
time columns (TIME_COLUMNS), their Markdown (the same numbers, rounded) is not compared.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

TIMED = {"table5", "retraining_time"}
MACHINE_KEYS = ("versions", "hardware")
TIME_COLUMNS = re.compile(r"(^|_)(time|seconds|wall|cpu)(_|$)|_s$|^hh:mm:ss$", re.IGNORECASE)


def _json_without_machine(path: Path) -> str:
    data = json.loads(path.read_text())
    return json.dumps({k: v for k, v in data.items() if k not in MACHINE_KEYS}, sort_keys=True)


def _csv_without_times(path: Path) -> str:
    import pandas as pd

    frame = pd.read_csv(path)
    frame = frame[[c for c in frame.columns if not TIME_COLUMNS.search(str(c))]]
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue()


def stem_of(name: str) -> str:
    return name.rsplit(".", 1)[0]


def differences(expected: Path, actual: Path, names=None) -> list[str]:
    """Names of the files (of ``names``, default every file of ``expected``) that differ between the two folders
    or are missing from ``actual``, as the module docstring compares them."""
    names = sorted(p.name for p in expected.iterdir() if p.is_file()) if names is None else names
    differ = []
    for name in names:
        a, b = expected / name, actual / name
        if not b.is_file():
            differ.append(f"{name} (missing)")
            continue
        timed = stem_of(name) in TIMED
        if name.endswith(".json"):
            same = _json_without_machine(a) == _json_without_machine(b)
        elif timed and name.endswith(".csv"):
            same = _csv_without_times(a) == _csv_without_times(b)
        elif timed:
            continue
        else:
            same = a.read_bytes() == b.read_bytes()
        if not same:
            differ.append(name)
    return differ
