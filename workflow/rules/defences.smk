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
        model=path("defence_model"),
        summary=path("defence_summary"),
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
        **model_params(
            "defend",
            train=dataset_setting("train"),
            settings=config_provider("defences", "{defence}"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule defend_guided:
    """The guided-retraining defence: C2 with the metric and data point that scored best on Val* (or Test*,
    aggregate.select_on; never Test when the defences are compared on it)."""
    input:
        data=data_file,
        adversarial=lambda w: path("adversarial", w, attack=guided_attack()),
        model=path("original_model"),
        results=lambda w: [
            path(
                "retrain",
                w,
                attack=guided_attack(),
                configuration="C2",
                metric=m,
                point=p,
            )
            for m in config["metrics"]
            for p in POINTS
        ],
        orders=lambda w: [
            path("order", w, attack=guided_attack(), metric=m)
            for m in config["metrics"]
        ],
    output:
        model=path("defence_model", defence="guided"),
        summary=path("defence_summary", defence="guided"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/defend_guided.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/defend_guided.tsv"
    resources:
        **resources_of("retrain"),
    params:
        **model_params(
            "defend_guided",
            attack=config_provider("defences", "guided_attack"),
            select_on=config["aggregate"]["select_on"],
            metrics=list(config["metrics"]),
            train=retrain_settings,
            data_points=N_POINTS,
            step=lambda w: dataset_config(w).get("steps", {}).get("C2"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule evaluate_defence:
    """Accuracy of one defended model on Test under one attack made against that model (white box)."""
    input:
        data=data_file,
        model=defence_model,
    output:
        result=path("defence_eval"),
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
        **model_params(
            "evaluate_defence",
            batch_size_eval=True,
            attack=config_provider("defences", "attacks", "{eval_attack}"),
            squeeze=lambda w: (
                config["defences"]["feature_squeezing"]["size"]
                if w.defence == "feature_squeezing"
                else None
            ),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule transfer_inputs:
    """Adversarial Test inputs crafted once against the undefended (original) model (transfer protocol)."""
    input:
        data=data_file,
        model=path("original_model"),
    output:
        adversarial=path("transfer_inputs"),
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
        **model_params(
            "transfer_inputs",
            batch_size_eval=True,
            attack=config_provider("defences", "attacks", "{eval_attack}"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


use rule evaluate_defence as evaluate_transfer with:
    """Accuracy and loss of one defended model on the inputs crafted against the undefended model (the same
    script and params as evaluate_defence, given the transfer inputs)."""
    input:
        data=data_file,
        model=defence_model,
        transfer=path("transfer_inputs"),
    output:
        result=path("defence_transfer"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/evaluate_transfer_{{defence}}_{{eval_attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/evaluate_transfer_{{defence}}_{{eval_attack}}.tsv"


rule defence_table:
    """The defence x attack accuracy tables (white box; transfer with loss) and one figure per dataset."""
    input:
        results=lambda w: [
            path("defence_eval", dataset=d, rep=rep, defence=defence, eval_attack=a)
            for d in config["datasets"]
            for rep in REPS
            for defence in DEFENCES
            for a in config["defences"]["attacks"]
        ],
        transfer=lambda w: [
            path(
                "defence_transfer", dataset=d, rep=rep, defence=defence, eval_attack=a
            )
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
