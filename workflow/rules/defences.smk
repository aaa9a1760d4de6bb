# Defences compared against guided retraining (config "defences"; left out: nothing here runs):
# none (the original model), adversarial training, feature squeezing and guided retraining
# (C2 with the best metric), each evaluated against the attacks of defences.attacks.
DEFENCES = ["none", "adversarial_training", "feature_squeezing", "guided"]


def defence_model(w):
    if w.defence == "none":
        return f"{R}/{w.dataset}/original/model.pt"
    return f"{R}/{w.dataset}/defences/{w.defence}/model.pt"


def defence_outputs():
    if not config.get("defences"):
        return []
    return [f"{R}/tables/defences.{ext}" for ext in ("csv", "md")] + [
        f"{R}/figures/defences_{d}.{ext}" for d in config["datasets"] for ext in ("png", "pdf")
    ]


rule defend:
    """Train a defended model: adversarial training or a classifier on median-filtered inputs."""
    input:
        data=rules.prepare.output.data,
    output:
        model=f"{R}/{{dataset}}/defences/{{defence}}/model.pt",
        summary=f"{R}/{{dataset}}/defences/{{defence}}/train.json",
    wildcard_constraints:
        defence="adversarial_training|feature_squeezing",
    params:
        arch=arch_param,
        train=lambda w: dataset_config(w)["train"],
        settings=lambda w: config["defences"][w.defence],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("train_original"),
    log:
        f"{R}/logs/{{dataset}}/defend_{{defence}}.log",
    run:
        run("defend", input, output, params, wildcards, threads, log)


rule defend_guided:
    """The guided-retraining defence: C2 with the metric and data point that scored best on Test*."""
    input:
        data=rules.prepare.output.data,
        adversarial=lambda w: f"{R}/{w.dataset}/{config['defences']['guided_attack']}/adversarial.npz",
        model=rules.train_original.output.model,
        results=lambda w: [
            f"{R}/{w.dataset}/{config['defences']['guided_attack']}/retrain/C2/{m}/{p}.json"
            for m in config["metrics"]
            for p in POINTS
        ],
        orders=lambda w: [
            f"{R}/{w.dataset}/{config['defences']['guided_attack']}/orders/{m}.npz" for m in config["metrics"]
        ],
    output:
        model=f"{R}/{{dataset}}/defences/guided/model.pt",
        summary=f"{R}/{{dataset}}/defences/guided/train.json",
    params:
        attack=lambda w: config["defences"]["guided_attack"],
        metrics=list(config["metrics"]),
        arch=arch_param,
        train=retrain_settings,
        data_points=N_POINTS,
        step=lambda w: dataset_config(w).get("steps", {}).get("C2"),
        device=config["device"],
        seed=config["seed"],
    resources:
        **resources_of("retrain"),
    log:
        f"{R}/logs/{{dataset}}/defend_guided.log",
    run:
        run("defend_guided", input, output, params, wildcards, threads, log)


rule evaluate_defence:
    """Accuracy of one defended model on Test under one attack made against that model (white box)."""
    input:
        data=rules.prepare.output.data,
        model=defence_model,
    output:
        result=f"{R}/{{dataset}}/defences/{{defence}}/eval_{{eval_attack}}.json",
    wildcard_constraints:
        defence="|".join(DEFENCES),
        eval_attack=r"[A-Za-z0-9_]+",
    params:
        attack=lambda w: config["defences"]["attacks"][w.eval_attack],
        squeeze=lambda w: config["defences"]["feature_squeezing"]["size"] if w.defence == "feature_squeezing" else None,
        arch=arch_param,
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("attack"),
    log:
        f"{R}/logs/{{dataset}}/evaluate_defence_{{defence}}_{{eval_attack}}.log",
    run:
        run("evaluate_defence", input, output, params, wildcards, threads, log)


rule defence_table:
    """The defence x attack accuracy table (CSV, Markdown) and one figure per dataset."""
    input:
        results=lambda w: [
            f"{R}/{d}/defences/{defence}/eval_{a}.json"
            for d in config["datasets"]
            for defence in DEFENCES
            for a in config["defences"]["attacks"]
        ],
    output:
        [
            report(p, caption="../report/defences.rst", category="Defences", labels={"file": Path(p).name})
            if p.endswith((".csv", ".png"))
            else p
            for p in defence_outputs()
        ],
    params:
        source=config_source(),
        results=R,
        datasets=list(config["datasets"]),
        attacks=list(config.get("defences", {}).get("attacks", {})),
    resources:
        **resources_of("aggregate"),
    log:
        f"{R}/logs/defence_table.log",
    run:
        run("defence_table", input, output, params, wildcards, threads, log)
