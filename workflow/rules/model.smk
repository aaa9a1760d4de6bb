rule train_original:
    """Train the original model on Train (or load the user's weights, datasets.NAME.original.weights)."""
    input:
        data=rules.prepare.output.data,
        weights=lambda w: dataset_config(w)["original"].get("weights", []),
    output:
        model=f"{R}/{{dataset}}/original/model.pt",
        summary=f"{R}/{{dataset}}/original/train.json",
    params:
        arch=arch_param,
        train=lambda w: dataset_config(w)["train"],
        original=lambda w: dataset_config(w)["original"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("train_original"),
    log:
        f"{R}/logs/{{dataset}}/train_original.log",
    run:
        run("train_original", input, output, params, wildcards, threads, log)


rule attack:
    """Adv.Train (a seeded subset of Train) and Adv.Test (all of Test) against the original model."""
    input:
        data=rules.prepare.output.data,
        model=rules.train_original.output.model,
    output:
        adversarial=f"{R}/{{dataset}}/{{attack}}/adversarial.npz",
        summary=f"{R}/{{dataset}}/{{attack}}/attack.json",
    params:
        attack=lambda w: config["attacks"][w.attack],
        arch=arch_param,
        adv_train_size=lambda w: dataset_config(w)["adv_train_size"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("attack"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/attack.log",
    run:
        run("attack", input, output, params, wildcards, threads, log)


rule activations:
    """Activations of one layer (or the softmax outputs) of the original model over Train*."""
    input:
        data=rules.prepare.output.data,
        adversarial=rules.attack.output.adversarial,
        model=rules.train_original.output.model,
    output:
        activations=f"{R}/{{dataset}}/{{attack}}/activations/{{layer}}.npz",
    params:
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
    threads: 2
    resources:
        **resources_of("activations"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/activations_{{layer}}.log",
    run:
        run("activations", input, output, params, wildcards, threads, log)
