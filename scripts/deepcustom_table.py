"""Rule deepcustom_table: seed 003's robustness matrix (CSV, Markdown) and a heat map per dataset."""

from guided_retraining import plots, tables
from guided_retraining.io import load_json


def main(job, log):
    p = job.params
    frame = tables.deepcustom([load_json(f) for f in job.input.results], p.models, p.attacks)
    csv, md = [f for f in job.output if f.endswith(".csv")][0], [f for f in job.output if f.endswith(".md")][0]
    tables.write(frame, csv, md, "Seed 003's robustness matrix: accuracy on Test of each model (row) under each "
                 "attack (column)", p.source)
    for d in p.datasets:
        paths = [f for f in job.output if f.startswith(f"{p.results}/figures/deepcustom_{d}.")]
        plots.deepcustom_heatmap(frame[frame["dataset"] == d], f"Robustness matrix, {d}", paths)
    log.info("matrix: %d rows", len(frame))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
