# The run's answer on one page (results/summary.md) and what `snakemake --report` shows first: the summary as
# its landing text and the tables as HTML pages (guided_retraining.summary).
from guided_retraining.summary import end_of_run


rule summary:
    """What the run found, per dataset and attack: which metrics beat random, where, by how much and how sure."""
    input:
        statistics=f"{R}/tables/statistics.csv",
        tables=[f"{R}/tables/{name}.md" for name in REPORT_TABLES],
        figures=[
            f"{R}/figures/{name}_{d}_{a}.png"
            for d, a in grid()
            for name in REPORT_FIGURES
        ],
        scores=[
            path("scores", dataset=d, rep=1, attack=a, metric=m)
            for d, a in grid()
            for m in config["metrics"]
        ],
    output:
        markdown=f"{R}/summary.md",
        rst=f"{R}/report/summary.rst",
        html=report(
            f"{R}/report/summary.html",
            caption="../report/summary.rst",
            category=REPORT_CATEGORIES["summary"],
            labels={"page": "What this run found"},
        ),
    log:
        f"{R}/logs/summary.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("summary"),
        metrics=config["metrics"],
        grid=grid(),
        shifts=shift_kinds(),
        source=config_source(),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule report_pages:
    """Every report table and figure as a self-contained HTML page: the report shows an HTML page inline across its
    content area (a CSV only as a download, a PNG at its own size beside the menu)."""
    input:
        csv=[f"{R}/tables/{name}.csv" for name in all_report_tables()],
        md=[f"{R}/tables/{name}.md" for name in all_report_tables()],
        png=[png for png, _, _ in report_figures()],
    output:
        tables=in_report(report_table_pages()),
        figures=in_report(report_figure_pages()),
    log:
        f"{R}/logs/report_pages.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("report_pages"),
        tables=list(all_report_tables()),
        shifts=shift_kinds(),
        figure_titles=[title for _, _, title in report_figures()],
    run:
        run(rule, input, output, params, wildcards, threads, log)


# The end of a run: where the answer is and its key lines (not after dry runs; Snakemake skips onsuccess there).
onsuccess:
    from snakemake.logging import logger

    text = end_of_run(f"{R}/summary.md", f"{R}/tables/statistics.csv")
    if text:
        logger.info(text)
