rule prepare:
    """Load the dataset and split it into train / validation / test arrays in [0, 1] (prepare_repetition:
    a split of its own per repetition, with split.per_repetition)."""
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
        split=lambda w: {
            k: v
            for k, v in dataset_config(w)["split"].items()
            if k != "per_repetition"
        },
        seed=config["seed"],
    run:
        run(rule, input, output, params, wildcards, threads, log)


use rule prepare as prepare_repetition with:
    output:
        data=f"{R}/{{dataset}}/r{{rep}}/data.npz",
        summary=f"{R}/{{dataset}}/r{{rep}}/data.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/prepare.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/prepare.tsv"
    params:
        code=code_of("prepare"),
        loader=lambda w: dataset_config(w)["loader"],
        root=lambda w: dataset_config(w)["root"],
        download=lambda w: dataset_config(w)["download"],
        options=lambda w: dataset_config(w)["options"],
        split=lambda w: {
            k: v
            for k, v in dataset_config(w)["split"].items()
            if k != "per_repetition"
        },
        seed=rep_seed,
