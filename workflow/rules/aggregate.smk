# The study's tables and figures over the whole grid, and what `snakemake --report` shows of them.
# Captions: workflow/report/*.rst (Jinja templates, rendered with `snakemake` = the aggregate job).


rule aggregate:
    """The tables declared for it in guided_retraining.table_registry (CSV, JSON provenance and Markdown):
    Tables 3, 4, 5, the retraining time, the cross-attack accuracies, the statistics over repetitions,
    the adversarial share and the tables of the config's plugins (and extra_tables);
    Figure 3, the paired differences at fixed budgets, the paired-share heat map, the score distributions
    and the adversarial share per dataset and attack (PNG and PDF). Score distributions and adversarial
    share: repetition 1."""
    input:
        retrain=[
            f for d, a in grid() for rep in REPS for f in retrain_outputs(d, a, rep)
        ],
        attacks=[
            path("attack_summary", dataset=d, rep=rep, attack=a)
            for d, a in grid()
            for rep in REPS
        ],
        scores=[
            path("score_summary", dataset=d, rep=rep, attack=a, metric=m)
            for d, a in grid()
            for rep in REPS
            for m in config["metrics"]
        ],
        score_arrays=[
            path("scores", dataset=d, rep=1, attack=a, metric=m)
            for d, a in grid()
            for m in config["metrics"]
        ],
        orders=[
            path("order", dataset=d, rep=1, attack=a, metric=m)
            for d, a in grid()
            for m in config["metrics"]
        ],
    output:
        in_report(aggregate_outputs()),
    log:
        f"{R}/logs/aggregate.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("aggregate"),
        include_original=config["aggregate"]["include_original_in_best"],
        select_on=config["aggregate"]["select_on"],
        seed=config["seed"],
        source=config_source(),
        grid=grid(),
        metrics=list(config["metrics"]),
        data_points=N_POINTS,
        budgets=BUDGETS,
        plugins=config.get("plugins", []),
        extra_tables=config.get("extra_tables", []),
        results=lambda w, output: str(Path(output[0]).parents[1]),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule training_curves:
    """Training graphs (run 004): loss and validation accuracy per epoch of the original model and, with
    defences, of the adversarially trained and squeezed models; one figure per dataset (repetition 1).
    """
    input:
        [f for d in config["datasets"] for f in training_models(d).values()],
    output:
        [
            (
                report(
                    p,
                    caption="../report/training.rst",
                    category=REPORT_CATEGORIES["training"],
                    labels={
                        "figure": "Training graphs",
                        "dataset": Path(p).stem.removeprefix("training_"),
                    },
                )
                if p.endswith(".png")
                else p
            )
            for p in training_outputs()
        ],
    log:
        f"{R}/logs/training_curves.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("training_curves"),
        models={d: list(training_models(d)) for d in config["datasets"]},
        results=lambda w, output: str(Path(output[0]).parents[1]),
    run:
        run(rule, input, output, params, wildcards, threads, log)
