"""Rule summary: results/summary.md (what the run found, in words and numbers) from the statistics table, and the
same page for the report (its landing text, results/report/summary.rst, and results/report/summary.html)."""

from pathlib import Path

from guided_retraining import summary
from guided_retraining.io import atomic_path, load_npz
from guided_retraining.metrics import METRICS


def main(job, log):
    p = job.params
    stats = summary.read_table(job.input.statistics)
    # repetition 1's scores (as the score-distribution figure): what a reference-set overlap did to them
    keys = [(d, a, m) for d, a in p.grid for m in p.metrics]
    # the metrics whose options can remove a reference set's overlap with the scored inputs (the surprise metrics)
    remedies = {k: {o for o in ("exclude_self", "reference") if o in m.options} for k, m in METRICS.items()}
    remedies = {k: v for k, v in remedies.items() if v}
    warnings = {}
    for dataset, attack in p.grid:
        scores = {}
        for (d, a, m), f in zip(keys, job.input.scores):
            if (d, a) == (dataset, attack):
                arrays = load_npz(f, ["scores", "n_train"])
                n_train = int(arrays["n_train"])
                scores[m] = (arrays["scores"][:n_train], arrays["scores"][n_train:])
        found = summary.leakage(p.metrics, remedies, scores)
        if found:
            warnings[dataset, attack] = found
            log.warning("%s/%s: reference set contains the scored clean inputs: %s", dataset, attack, ", ".join(found))
    text = summary.summary_markdown(stats, Path(job.output.markdown).parent, warnings, p.source, p.shifts)
    rst = summary.to_rst(text)
    for path, content in ((job.output.markdown, text), (job.output.rst, rst),
                          (job.output.html, summary.rst_to_html(rst, "What this run found"))):
        with atomic_path(path) as tmp:
            tmp.write_text(content)
    log.info("summary: %d comparisons with random; %s", len(summary.versus_random(stats)),
             " | ".join(summary.key_lines(summary.versus_random(stats), warnings, p.shifts)))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
