"""Rule defence_table: the defence x attack accuracy table and a figure per dataset."""

from pathlib import Path

from guided_retraining import plots, table_registry, tables
from guided_retraining.io import load_json


def main(job, log):
    p = job.params
    frame = tables.defences([load_json(f) for f in job.input.results], p.attacks)
    out = Path(p.results)
    tables.write(frame, out / "tables/defences.csv", out / "tables/defences.md",
                 table_registry.TABLES["defences"].heading, p.source)
    for dataset in p.datasets:
        plots.defences(frame[frame["dataset"] == dataset], f"Defences on {dataset}",
                       [out / f"figures/defences_{dataset}.{ext}" for ext in ("png", "pdf")])
    transfer = tables.defences_transfer([load_json(f) for f in job.input.transfer], p.attacks)
    tables.write(transfer, out / "tables/defences_transfer.csv", out / "tables/defences_transfer.md",
                 table_registry.TABLES["defences_transfer"].heading, p.source)
    log.info("%d white-box and %d transfer defence evaluations", len(job.input.results), len(job.input.transfer))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
