"""Measured job resources against the estimates the rules ask a cluster for.

    python benchmarks/resources.py [--configfile config/config.yaml] [--results results]

Every job writes Snakemake's benchmark file `results/benchmarks/<dataset>/.../<job>.tsv`
(wall seconds `s`, peak resident memory `max_rss` in MB). On a cluster each job is its own
process, so these are the job's own figures; this prints, per rule and dataset, the largest
measured wall time and memory beside the `runtime` and `mem_mb` that
`guided_retraining.resources.estimate` asks for, and flags jobs that came within 80 % of them.
(In a local run the jobs are threads of one Snakemake process: `max_rss` is the whole process's.)
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "workflow" / "lib"))

from guided_retraining.config import validate_schema  # noqa: E402
from guided_retraining.resources import estimate  # noqa: E402
from job_costs import JOB_COSTS  # noqa: E402

# benchmark file stem prefix -> the rule whose estimate applies (defences reuse training/attack estimates)
RULES = {"prepare": "prepare", "train_original": "train_original", "attack": "attack", "activations": "activations",
         "score": "score", "retrain": "retrain", "defend_guided": "retrain", "defend": "train_original",
         "evaluate_defence": "attack"}


def rule_of(stem: str) -> str | None:
    for prefix in sorted(RULES, key=len, reverse=True):
        if stem == prefix or stem.startswith(prefix + "_"):
            return prefix
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default=str(REPO / "config/config.yaml"))
    parser.add_argument("--results", default="results")
    args = parser.parse_args()
    config = yaml.safe_load(Path(args.configfile).read_text())
    validate_schema(config, REPO / "workflow/schemas/config.schema.yaml")
    measured: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for path in sorted(Path(args.results, "benchmarks").rglob("*.tsv")):
        dataset = path.relative_to(Path(args.results, "benchmarks")).parts[0]
        rule = rule_of(path.stem)
        if rule is None or dataset not in config["datasets"]:
            continue
        with path.open() as f:
            for row in csv.DictReader(f, delimiter="\t"):
                rss = float(row["max_rss"]) if row["max_rss"] not in ("", "NA", "-") else float("nan")
                measured.setdefault((rule, dataset), []).append((float(row["s"]), rss))
    if not measured:
        sys.exit(f"no benchmark files under {args.results}/benchmarks (run the workflow first)")
    print(f"{'rule':<17}{'dataset':<14}{'jobs':>5}{'max s':>9}{'ask min':>9}{'max MB':>9}{'ask MB':>9}  note")
    for (rule, dataset), rows in sorted(measured.items()):
        ask = estimate(JOB_COSTS[RULES[rule]], config["datasets"][dataset])
        wall, rss = max(r[0] for r in rows), max(r[1] for r in rows)
        tight = wall > 0.8 * ask["runtime"] * 60 or rss > 0.8 * ask["mem_mb"]
        print(f"{rule:<17}{dataset:<14}{len(rows):>5}{wall:>9.1f}{ask['runtime']:>9}{rss:>9.0f}{ask['mem_mb']:>9}"
              f"  {'TIGHT: raise it in set-resources' if tight else ''}")


if __name__ == "__main__":
    main()
