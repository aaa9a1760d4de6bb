# Seed 003 (DeepCustom): Tarantula suspiciousness of the original model's neurons, the DGN generators
# of `kind: dgn` attacks (trained once per dataset and attack setting), and, with a `deepcustom:`
# `deepcustom.robust` list, the robustness matrix: models adversarially trained on each attack (Goodfellow's mix)
# and the original model, each evaluated against every attack.
# Paths under {dataset}/original/ and {dataset}/{attack}/ follow the grid's layout.


def is_dgn(attack):
    return config["attacks"][attack]["kind"] == "dgn"


def dgn_generators(w):
    """The generators file of a dgn attack (the attack rule's and robust rules' extra input); none for the others."""
    attack = getattr(w, "attack", None) or getattr(w, "eval_attack")
    return [f"{R}/{w.dataset}/{attack}/generators.pt"] if is_dgn(attack) else []


def robust_names():
    """The attacks of the matrix's adversarially trained models (deepcustom.robust; none: no matrix)."""
    return config["deepcustom"].get("robust", [])


def deepcustom_outputs():
    if not robust_names():
        return []
    return (
        [f"{R}/tables/{name}.{ext}" for name in ["deepcustom"] + [f"suspiciousness_{d}" for d in config["datasets"]]
         for ext in ("csv", "md")]
        + [f"{R}/figures/deepcustom_{d}.{ext}" for d in config["datasets"] for ext in ("png", "pdf")]
    )


rule suspiciousness:
    """Hit spectra and Tarantula scores of the original model's hidden neurons per class (validation inputs)."""
    input:
        data=rules.prepare.output.data,
        model=rules.train_original.output.model,
    output:
        scores=f"{R}/{{dataset}}/original/suspiciousness.npz",
        csv=f"{R}/tables/suspiciousness_{{dataset}}.csv",
        md=f"{R}/tables/suspiciousness_{{dataset}}.md",
    params:
        settings={k: config["deepcustom"][k] for k in ("activation_threshold", "top_k")},
        arch=lambda w: dataset_config(w)["arch"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        source=config_source(),
    resources:
        **resources_of("activations"),
    log:
        f"{R}/logs/{{dataset}}/suspiciousness.log",
    run:
        run("suspiciousness", input, output, params, wildcards, threads, log)


rule train_dgn:
    """One DGN generator per class against the original model (a dgn attack's setting)."""
    input:
        data=rules.prepare.output.data,
        model=rules.train_original.output.model,
        suspiciousness=lambda w: (
            [rules.suspiciousness.output.scores] if config["attacks"][w.attack].get("loss") == "suspiciousness" else []
        ),
    output:
        generators=f"{R}/{{dataset}}/{{attack}}/generators.pt",
        summary=f"{R}/{{dataset}}/{{attack}}/generators.json",
    params:
        attack=lambda w: config["attacks"][w.attack],
        arch=lambda w: dataset_config(w)["arch"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("train_original"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/train_dgn.log",
    run:
        run("train_dgn", input, output, params, wildcards, threads, log)


rule deepcustom_robust:
    """A model adversarially trained on one attack (Goodfellow's mix; dgn: its generators' outputs)."""
    input:
        data=rules.prepare.output.data,
        generators=dgn_generators,
    output:
        model=f"{R}/{{dataset}}/deepcustom/robust_{{attack}}/model.pt",
        summary=f"{R}/{{dataset}}/deepcustom/robust_{{attack}}/train.json",
    params:
        attack=lambda w: config["attacks"][w.attack],
        arch=lambda w: dataset_config(w)["arch"],
        train=lambda w: {**dataset_config(w)["train"], **config["deepcustom"]["train"]},
        alpha_mix=lambda w: config["deepcustom"]["alpha_mix"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("train_original"),
    log:
        f"{R}/logs/{{dataset}}/deepcustom_robust_{{attack}}.log",
    run:
        run("deepcustom_robust", input, output, params, wildcards, threads, log)


def deepcustom_model(w):
    if w.robust == "original":
        return f"{R}/{w.dataset}/original/model.pt"
    return f"{R}/{w.dataset}/deepcustom/{w.robust}/model.pt"


rule deepcustom_eval:
    """Accuracy of one model of the matrix on Test under one attack (gradient attacks white-box against it)."""
    input:
        data=rules.prepare.output.data,
        model=deepcustom_model,
        generators=dgn_generators,
    output:
        result=f"{R}/{{dataset}}/deepcustom/{{robust}}/eval_{{eval_attack}}.json",
    wildcard_constraints:
        robust=r"original|robust_[A-Za-z0-9_]+",
        eval_attack=r"[A-Za-z0-9_]+",
    params:
        attack=lambda w: config["attacks"][w.eval_attack],
        arch=lambda w: dataset_config(w)["arch"],
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        seed=config["seed"],
    threads: 2
    resources:
        **resources_of("attack"),
    log:
        f"{R}/logs/{{dataset}}/deepcustom_eval_{{robust}}_{{eval_attack}}.log",
    run:
        run("deepcustom_eval", input, output, params, wildcards, threads, log)


rule deepcustom_table:
    """Seed 003's robustness matrix (model x attack accuracy on Test) as CSV, Markdown and one heat map per dataset."""
    input:
        results=lambda w: [
            f"{R}/{d}/deepcustom/{m}/eval_{a}.json"
            for d in config["datasets"]
            for m in ["original"] + [f"robust_{r}" for r in robust_names()]
            for a in config["attacks"]
        ],
    output:
        [
            report(p, caption="../report/deepcustom.rst", category="DeepCustom", labels={"file": Path(p).name})
            if p.endswith((".csv", ".png"))
            else p
            for p in deepcustom_outputs()
            if "suspiciousness_" not in p
        ],
    params:
        source=config_source(),
        datasets=list(config["datasets"]),
        attacks=list(config["attacks"]),
        models=lambda w: ["original"] + [f"robust_{r}" for r in robust_names()],
        results=R,
    resources:
        **resources_of("aggregate"),
    log:
        f"{R}/logs/deepcustom_table.log",
    run:
        run("deepcustom_table", input, output, params, wildcards, threads, log)
