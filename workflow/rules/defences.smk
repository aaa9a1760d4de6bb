# Defences compared against guided retraining (config "defences"; left out: nothing here runs):
# none (the original model), adversarial training, feature squeezing and guided retraining
# (C2 with the best metric), each evaluated against the attacks of defences.attacks in two protocols:
# white box (the attack made against the defended model) and transfer (run 004's: the attack made once
# against the undefended model, its inputs given to each defended model).


rule defend:
    """Train a defended model: adversarial training or a classifier on median-filtered inputs."""
    input:
        data=data_file,
    output:
        model=f"{R}/{{dataset}}/r{{rep}}/defences/{{defence}}/model.pt",
        summary=f"{R}/{{dataset}}/r{{rep}}/defences/{{defence}}/train.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/defend_{{defence}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/defend_{{defence}}.tsv"
    wildcard_constraints:
        defence="adversarial_training|feature_squeezing",
    threads: 2
    resources:
        **resources_of("train_original"),
    params:
        code=code_of("defend"),
        arch=arch_param,
        train=lambda w: dataset_config(w)["train"],
        settings=lambda w: config["defences"][w.defence],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule defend_guided:
    """The guided-retraining defence: C2 with the metric and data point that scored best on Val* (or Test*,
    aggregate.select_on; never Test when the defences are compared on it)."""
    input:
        data=data_file,
        adversarial=lambda w: f"{R}/{w.dataset}/r{w.rep}/{config['defences']['guided_attack']}/adversarial.npz",
        model=rules.train_original.output.model,
        results=lambda w: [
            f"{R}/{w.dataset}/r{w.rep}/{config['defences']['guided_attack']}/retrain/C2/{m}/{p}.json"
            for m in config["metrics"]
            for p in POINTS
        ],
        orders=lambda w: [
            f"{R}/{w.dataset}/r{w.rep}/{config['defences']['guided_attack']}/orders/{m}.npz"
            for m in config["metrics"]
        ],
    output:
        model=f"{R}/{{dataset}}/r{{rep}}/defences/guided/model.pt",
        summary=f"{R}/{{dataset}}/r{{rep}}/defences/guided/train.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/defend_guided.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/defend_guided.tsv"
    resources:
        **resources_of("retrain"),
    params:
        code=code_of("defend_guided"),
        attack=lambda w: config["defences"]["guided_attack"],
        select_on=config["aggregate"]["select_on"],
        metrics=list(config["metrics"]),
        arch=arch_param,
        train=retrain_settings,
        data_points=N_POINTS,
        step=lambda w: dataset_config(w).get("steps", {}).get("C2"),
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule evaluate_defence:
    """Accuracy of one defended model on Test under one attack made against that model (white box)."""
    input:
        data=data_file,
        model=defence_model,
    output:
        result=f"{R}/{{dataset}}/r{{rep}}/defences/{{defence}}/eval_{{eval_attack}}.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/evaluate_defence_{{defence}}_{{eval_attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/evaluate_defence_{{defence}}_{{eval_attack}}.tsv"
    wildcard_constraints:
        defence="|".join(DEFENCES),
        eval_attack=r"[A-Za-z0-9_]+",
    threads: 2
    resources:
        **resources_of("attack"),
    params:
        code=code_of("evaluate_defence"),
        attack=lambda w: config["defences"]["attacks"][w.eval_attack],
        squeeze=lambda w: (
            config["defences"]["feature_squeezing"]["size"]
            if w.defence == "feature_squeezing"
            else None
        ),
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule transfer_inputs:
    """Adversarial Test inputs crafted once against the undefended (original) model (transfer protocol)."""
    input:
        data=data_file,
        model=rules.train_original.output.model,
    output:
        adversarial=f"{R}/{{dataset}}/r{{rep}}/defences/transfer/{{eval_attack}}.npz",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/transfer_inputs_{{eval_attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/transfer_inputs_{{eval_attack}}.tsv"
    wildcard_constraints:
        eval_attack=r"[A-Za-z0-9_]+",
    threads: 2
    resources:
        **resources_of("attack"),
    params:
        code=code_of("transfer_inputs"),
        attack=lambda w: config["defences"]["attacks"][w.eval_attack],
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule evaluate_transfer:
    """Accuracy and loss of one defended model on the inputs crafted against the undefended model."""
    input:
        data=data_file,
        model=defence_model,
        transfer=rules.transfer_inputs.output.adversarial,
    output:
        result=f"{R}/{{dataset}}/r{{rep}}/defences/{{defence}}/transfer_{{eval_attack}}.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/evaluate_transfer_{{defence}}_{{eval_attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/evaluate_transfer_{{defence}}_{{eval_attack}}.tsv"
    wildcard_constraints:
        defence="|".join(DEFENCES),
        eval_attack=r"[A-Za-z0-9_]+",
    threads: 2
    resources:
        **resources_of("attack"),
    params:
        code=code_of("evaluate_defence"),
        attack=lambda w: config["defences"]["attacks"][w.eval_attack],
        squeeze=lambda w: (
            config["defences"]["feature_squeezing"]["size"]
            if w.defence == "feature_squeezing"
            else None
        ),
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run("evaluate_defence", input, output, params, wildcards, threads, log)


rule defence_table:
    """The defence x attack accuracy tables (white box; transfer with loss) and one figure per dataset."""
    input:
        results=lambda w: [
            f"{R}/{d}/r{rep}/defences/{defence}/eval_{a}.json"
            for d in config["datasets"]
            for rep in REPS
            for defence in DEFENCES
            for a in config["defences"]["attacks"]
        ],
        transfer=lambda w: [
            f"{R}/{d}/r{rep}/defences/{defence}/transfer_{a}.json"
            for d in config["datasets"]
            for rep in REPS
            for defence in DEFENCES
            for a in config["defences"]["attacks"]
        ],
    output:
        [
            (
                report(
                    p,
                    caption="../report/defences.rst",
                    category="Defences",
                    labels={"file": Path(p).name},
                )
                if p.endswith((".csv", ".png"))
                else p
            )
            for p in defence_outputs()
        ],
    log:
        f"{R}/logs/defence_table.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("defence_table"),
        source=config_source(),
        results=lambda w, output: str(Path(output[0]).parents[1]),
        datasets=list(config["datasets"]),
        attacks=list(config.get("defences", {}).get("attacks", {})),
    run:
        run(rule, input, output, params, wildcards, threads, log)
