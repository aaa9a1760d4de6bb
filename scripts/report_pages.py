"""Rule report_pages: every report table and figure as a small self-contained HTML page, which the Snakemake
report shows inline across its content area (a CSV there is only a download, a PNG is drawn at its own size)."""

from guided_retraining import summary
from guided_retraining.io import atomic_path
from guided_retraining.table_files import label_shifts


def main(job, log):
    p = job.params
    for name, csv, md, out in zip(p.tables, job.input.csv, job.input.md, job.output.tables):
        frame = label_shifts(summary.read_table(csv), p.shifts)  # a shift's rows say so, as in the Markdown
        with atomic_path(out) as tmp:
            tmp.write_text(summary.table_html(frame, summary.table_title(md, name)))
        log.info("%s: %d rows", name, len(frame))
    for png, title, out in zip(job.input.png, p.figure_titles, job.output.figures):
        with atomic_path(out) as tmp:
            tmp.write_text(summary.figure_html(png, title))
    log.info("%d figure pages", len(job.output.figures))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
