rule train_original:
    """Train the original model on Train (or load the user's weights, datasets.NAME.original.weights)."""
    input:
        data=data_file,
        weights=lambda w: dataset_config(w)["original"].get("weights", []),
    output:
        model=f"{R}/{{dataset}}/r{{rep}}/original/model.pt",
        summary=f"{R}/{{dataset}}/r{{rep}}/original/train.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/train_original.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/train_original.tsv"
    threads: 2
    resources:
        **resources_of("train_original"),
    params:
        code=code_of("train_original"),
        arch=arch_param,
        train=lambda w: dataset_config(w)["train"],
        original=lambda w: dataset_config(w)["original"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        allow_chance=lambda w: dataset_config(w)["allow_chance_original"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule attack:
    """Adv.Train (a seeded subset of Train) and Adv.Test (all of Test) against the original model."""
    input:
        data=data_file,
        model=rules.train_original.output.model,
        generators=lambda w: dgn_generators(w),
    output:
        adversarial=f"{R}/{{dataset}}/r{{rep}}/{{attack}}/adversarial.npz",
        summary=f"{R}/{{dataset}}/r{{rep}}/{{attack}}/attack.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/attack.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/attack.tsv"
    threads: 2
    resources:
        **resources_of("attack"),
    params:
        code=code_of("attack"),
        attack=lambda w: config["attacks"][w.attack],
        arch=arch_param,
        adv_train_size=lambda w: dataset_config(w)["adv_train_size"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule activations:
    """Activations of one layer (or the softmax outputs) of the original model over Train*."""
    input:
        data=data_file,
        adversarial=rules.attack.output.adversarial,
        model=rules.train_original.output.model,
    output:
        activations=f"{R}/{{dataset}}/r{{rep}}/{{attack}}/activations/{{layer}}.npz",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/activations_{{layer}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/activations_{{layer}}.tsv"
    threads: 2
    resources:
        **resources_of("activations"),
    params:
        code=code_of("activations"),
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
    run:
        run(rule, input, output, params, wildcards, threads, log)
