rule prepare:
    """Load the dataset and split it into train / validation / test arrays in [0, 1]."""
    output:
        data=f"{R}/{{dataset}}/data.npz",
        summary=f"{R}/{{dataset}}/data.json",
    log:
        f"{R}/logs/{{dataset}}/prepare.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/prepare.tsv"
    resources:
        **resources_of("prepare"),
    params:
        code=code_of("prepare"),
        loader=lambda w: dataset_config(w)["loader"],
        root=lambda w: dataset_config(w)["root"],
        download=lambda w: dataset_config(w)["download"],
        options=lambda w: dataset_config(w)["options"],
        split=lambda w: dataset_config(w)["split"],
        seed=config["seed"],
    run:
        run(rule, input, output, params, wildcards, threads, log)
