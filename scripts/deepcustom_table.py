"""Rule deepcustom_table: seed 003's robustness matrices (CSV, Markdown) and a heat map per dataset:
transfer (the seed's protocol) as deepcustom.*, the optional white-box one as deepcustom_whitebox.*."""

from pathlib import Path

from guided_retraining import plots, table_registry, tables
from guided_retraining.io import load_json


def main(job, log):
    p = job.params
    results = [load_json(f) for f in job.input.results]
    out = Path(p.results)
    for protocol in p.protocols:
        name = "deepcustom" if protocol == "transfer" else f"deepcustom_{protocol}"
        frame = tables.deepcustom([r for r in results if r["protocol"] == protocol], p.models, p.attacks)
        tables.write(frame, out / f"tables/{name}.csv", out / f"tables/{name}.md", table_registry.TABLES[name].heading,
                     p.source)
        for d in p.datasets:
            plots.deepcustom_heatmap(frame[frame["dataset"] == d], f"Robustness matrix ({protocol}), {d}",
                                     [out / f"figures/{name}_{d}.{ext}" for ext in ("png", "pdf")])
        log.info("%s matrix: %d rows", protocol, len(frame))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
