rule prepare:
    """Load the dataset and split it into train / validation / test arrays in [0, 1]."""
    output:
        data=f"{R}/{{dataset}}/data.npz",
        summary=f"{R}/{{dataset}}/data.json",
    params:
        loader=lambda w: dataset_config(w)["loader"],
        root=lambda w: dataset_config(w)["root"],
        download=lambda w: dataset_config(w)["download"],
        options=lambda w: dataset_config(w)["options"],
        split=lambda w: dataset_config(w)["split"],
        seed=config["seed"],
    resources:
        **resources_of("prepare"),
    log:
        f"{R}/logs/{{dataset}}/prepare.log",
    run:
        run("prepare", input, output, params, wildcards, threads, log)
