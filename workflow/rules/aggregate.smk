# The study's tables and figures over the whole grid, and what `snakemake --report` shows of them.
# Captions: workflow/report/*.rst (Jinja templates, rendered with `snakemake` = the aggregate job).


# file stem -> (caption in workflow/report/, label shown in the report)
REPORT_TABLES = {
    "table3": ("table3", "Table 3: best accuracy on Test* and inputs used"),
    "table4": ("table4", "Table 4: C2 at C3's input count against C3"),
    "table5": ("table5", "Table 5: metric wall time"),
    "adversarial_share": ("adversarial_share_table", "Adversarial share of each data point's inputs"),
    "cross_attack": ("cross_attack", "Accuracy on the Adv.Test of every attack (model x attack)"),
    "statistics": ("statistics", "Statistics over repetitions: mean, CI, Wilcoxon and A12 against random"),
    "statistics_pairs": ("statistics_pairs", "Every metric against every other: Wilcoxon (Holm) and A12"),
}
REPORT_FIGURES = {
    "figure3": ("figure3", "Figure 3: accuracy on Test* against inputs used"),
    "scores": ("scores", "Score distributions: clean against adversarial inputs"),
    "adversarial_share": ("adversarial_share_figure", "Adversarial share of each data point's inputs"),
    "a12": ("a12", "A12 of every metric against every other (significant cells marked)"),
}


def aggregate_outputs():
    """Tables (CSV, Markdown) over the grid; figures (PNG, PDF) per dataset and attack."""
    tables = [f"{R}/tables/{name}.{ext}" for name in REPORT_TABLES for ext in ("csv", "md")]
    figures = [f"{R}/figures/{name}_{d}_{a}.{ext}" for d, a in grid() for name in REPORT_FIGURES for ext in ("png", "pdf")]
    return tables + figures


def report_entries():
    """Path -> report() arguments of every output shown in the report: the CSV tables and PNG figures."""
    entries = {
        f"{R}/tables/{name}.csv": dict(
            caption=f"../report/{caption}.rst", category="Tables", labels={"table": title}
        )
        for name, (caption, title) in REPORT_TABLES.items()
    }
    for d, a in grid():
        for name, (caption, title) in REPORT_FIGURES.items():
            entries[f"{R}/figures/{name}_{d}_{a}.png"] = dict(
                caption=f"../report/{caption}.rst",
                category="Figures",
                subcategory=f"{d}, {a}",
                labels={"figure": title, "dataset": d, "attack": a},
            )
    return entries


def in_report(paths):
    """``paths`` with the ones listed by report_entries() flagged for the report."""
    entries = report_entries()
    return [report(p, **entries[p]) if p in entries else p for p in paths]


rule aggregate:
    """Tables 3, 4, 5, the statistics over repetitions and the adversarial share (CSV and Markdown); Figure 3,
    the A12 heat map, the score distributions and the adversarial share per dataset and attack (PNG and PDF)."""
    input:
        retrain=[f for d, a in grid() for rep in REPS for f in retrain_outputs(d, a, rep)],
        attacks=[f"{R}/{d}/r{rep}/{a}/attack.json" for d, a in grid() for rep in REPS],
        scores=[f"{R}/{d}/r{rep}/{a}/scores/{m}.json" for d, a in grid() for rep in REPS for m in config["metrics"]],
        score_arrays=[f"{R}/{d}/r1/{a}/scores/{m}.npz" for d, a in grid() for m in config["metrics"]],
        orders=[f"{R}/{d}/r1/{a}/orders/{m}.npz" for d, a in grid() for m in config["metrics"]],
    output:
        in_report(aggregate_outputs()),
    params:
        include_original=config["aggregate"]["include_original_in_best"],
        select_on=config["aggregate"]["select_on"],
        seed=config["seed"],
        source=config_source(),
        grid=grid(),
        metrics=list(config["metrics"]),
        data_points=N_POINTS,
        results=R,
    resources:
        **resources_of("aggregate"),
    log:
        f"{R}/logs/aggregate.log",
    run:
        run("aggregate", input, output, params, wildcards, threads, log)
