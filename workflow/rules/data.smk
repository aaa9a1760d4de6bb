rule prepare:
    """Load the dataset and split it into train / validation / test arrays in [0, 1] (prepare_repetition:
    a split of its own per repetition, with split.per_repetition)."""
    output:
        data=path("data"),
        summary=path("data_summary"),
    log:
        f"{R}/logs/{{dataset}}/prepare.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/prepare.tsv"
    resources:
        **resources_of("prepare"),
    params:
        **prepare_params(seed=config["seed"]),
    run:
        run(rule, input, output, params, wildcards, threads, log)


use rule prepare as prepare_repetition with:
    output:
        data=path("repetition_data"),
        summary=path("repetition_data_summary"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/prepare.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/prepare.tsv"
    params:
        **prepare_params(seed=rep_seed),
