rule train_original:
    """Train the original model on Train (or load the user's weights, datasets.NAME.original.weights)."""
    input:
        data=data_file,
        weights=lambda w: dataset_config(w)["original"].get("weights", []),
    output:
        model=path("original_model"),
        summary=path("original_summary"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/train_original.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/train_original.tsv"
    threads: 2
    resources:
        **resources_of("train_original"),
    params:
        **model_params(
            "train_original",
            batch_size_eval=True,
            train=dataset_setting("train"),
            original=dataset_setting("original"),
            allow_chance=dataset_setting("allow_chance_original"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule attack:
    """Adv.Train (a seeded subset of Train) and Adv.Test (all of Test) against the original model."""
    input:
        data=data_file,
        model=path("original_model"),
        generators=lambda w: dgn_generators(w),
    output:
        adversarial=path("adversarial"),
        summary=path("attack_summary"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/attack.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/attack.tsv"
    threads: 2
    resources:
        **resources_of("attack"),
    params:
        **model_params(
            "attack",
            batch_size_eval=True,
            attack=config_provider("attacks", "{attack}"),
            adv_train_size=dataset_setting("adv_train_size"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule activations:
    """Activations of one layer (or the softmax outputs) of the original model over Train*."""
    input:
        data=data_file,
        adversarial=path("adversarial"),
        model=path("original_model"),
    output:
        activations=path("activations"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/activations_{{layer}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/activations_{{layer}}.tsv"
    threads: 2
    resources:
        **resources_of("activations"),
    params:
        **model_params("activations", seed=None, batch_size_eval=True),
    run:
        run(rule, input, output, params, wildcards, threads, log)
