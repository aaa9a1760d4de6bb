# The field's three objectives of test selection (fault detection, performance estimation, retraining
# guidance) per metric and attack or shift, against random: from the files the study already wrote.
rule objectives:
    """Fault detection (APFD, share of misclassified inputs found per budget) and performance estimation
    (absolute error of the accuracy estimated on the first b inputs) of every metric's order, with the
    retraining results at the budget points: paired over repetitions against random (Holm per objective
    and budget); one table, one heat map per objective and dataset."""
    input:
        softmax=[
            path("activations", dataset=d, rep=rep, attack=a, layer="softmax")
            for d, a, rep in objectives_cases()
        ],
        data=[
            data_file(SimpleNamespace(dataset=d, rep=rep))
            for d, a, rep in objectives_cases()
        ],
        adversarial=[
            path("adversarial", dataset=d, rep=rep, attack=a)
            for d, a, rep in objectives_cases()
        ],
        orders=[
            path("order", dataset=d, rep=rep, attack=a, metric=m)
            for d, a, rep in objectives_cases()
            for m in config["metrics"]
        ],
        retrain=[
            path(
                "retrain",
                dataset=d,
                rep=rep,
                attack=a,
                configuration=c,
                metric=m,
                point=b,
            )
            for d, a, rep in objectives_cases()
            for c in CONFIGURATIONS
            for m in config["metrics"]
            for b in BUDGETS
        ],
    output:
        objectives_outputs(),
    log:
        f"{R}/logs/objectives.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("objectives"),
        source=config_source(),
        grid=grid(),
        reps=REPS,
        metrics=list(config["metrics"]),
        budgets=OBJECTIVE_BUDGETS,
        retraining_budgets=BUDGETS,
        shifts=shift_kinds(),
        results=lambda w, output: str(Path(output[0]).parents[1]),
    run:
        run(rule, input, output, params, wildcards, threads, log)
