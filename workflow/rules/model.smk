rule train_original:
    """Train the original model on Train."""
    input:
        data=rules.prepare.output.data,
    output:
        model=f"{R}/{{dataset}}/original/model.pt",
        summary=f"{R}/{{dataset}}/original/train.json",
    params:
        arch=lambda w: dataset_config(w)["arch"],
        train=lambda w: dataset_config(w)["train"],
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
        generators=lambda w: dgn_generators(w),
    output:
        adversarial=f"{R}/{{dataset}}/{{attack}}/adversarial.npz",
        summary=f"{R}/{{dataset}}/{{attack}}/attack.json",
    params:
        attack=lambda w: config["attacks"][w.attack],
        arch=lambda w: dataset_config(w)["arch"],
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
        arch=lambda w: dataset_config(w)["arch"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
    threads: 2
    resources:
        **resources_of("activations"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/activations_{{layer}}.log",
    run:
        run("activations", input, output, params, wildcards, threads, log)
