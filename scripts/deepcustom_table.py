"""Rule deepcustom_table: seed 003's robustness matrix (CSV, Markdown) and a heat map per dataset."""

from pathlib import Path

from guided_retraining import plots, tables
from guided_retraining.io import load_json


def main(job, log):
    p = job.params
    frame = tables.deepcustom([load_json(f) for f in job.input.results], p.models, p.attacks)
    out = Path(p.results)
    tables.write(frame, out / "tables/deepcustom.csv", out / "tables/deepcustom.md", "Seed 003's robustness matrix: accuracy on Test of each model (row) under each "
                 "attack (column)", p.source)
    for d in p.datasets:
        plots.deepcustom_heatmap(frame[frame["dataset"] == d], f"Robustness matrix, {d}",
                                 [out / f"figures/deepcustom_{d}.{ext}" for ext in ("png", "pdf")])
    log.info("matrix: %d rows", len(frame))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
