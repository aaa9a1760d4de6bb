# One torch thread per job: the 5x30 target and the generators are small, and on a shared machine two
# OpenMP threads per job spent 10x the CPU time waiting on each other (measured; docs/deepcustom.md).
# Seed 003 (DeepCustom): Tarantula suspiciousness of the original model's neurons, the DGN generators
# of `kind: dgn` attacks (trained once per dataset and attack setting), and, with a
# `deepcustom.robust` list, the robustness matrix: models adversarially trained on each attack (Goodfellow's mix)
# and the original model, each evaluated against every attack: on the stored Adv.Test made against the
# original model (transfer, the seed's protocol) and, with deepcustom.whitebox, attacked white-box.
# Paths under {dataset}/original/ and {dataset}/{attack}/ follow the grid's layout.


rule suspiciousness:
    """Hit spectra and Tarantula scores of the original model's hidden neurons per class (validation inputs)."""
    input:
        data=data_file,
        model=path("original_model"),
    output:
        scores=path("suspiciousness"),
        csv=f"{R}/tables/suspiciousness_{{dataset}}_r{{rep}}.csv",
        md=f"{R}/tables/suspiciousness_{{dataset}}_r{{rep}}.md",
        provenance=f"{R}/tables/suspiciousness_{{dataset}}_r{{rep}}.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/suspiciousness.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/suspiciousness.tsv"
    resources:
        **resources_of("activations"),
    params:
        **model_params(
            "suspiciousness",
            seed=None,
            batch_size_eval=True,
            settings={
                k: config["deepcustom"][k] for k in ("activation_threshold", "top_k")
            },
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule train_dgn:
    """One DGN generator per class against the original model (a dgn attack's setting)."""
    input:
        data=data_file,
        model=path("original_model"),
        suspiciousness=lambda w: (
            [path("suspiciousness")]
            if config["attacks"][w.attack].get("loss") == "suspiciousness"
            else []
        ),
    output:
        generators=path("generators"),
        summary=path("generators_summary"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/train_dgn.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/train_dgn.tsv"
    threads: 1
    resources:
        **resources_of("train_original"),
    params:
        **model_params("train_dgn", attack=config_provider("attacks", "{attack}")),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule deepcustom_adv_data:
    """Seed 003's stored adversarial training data: one attack on all of Train, made once against the original
    model (deepcustom.adversarial_data: stored); the robust model of that attack trains on it.
    """
    input:
        data=data_file,
        model=path("original_model"),
        generators=dgn_generators,
    output:
        adversarial=path("deepcustom_adv_train"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/deepcustom_adv_data_{{attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/deepcustom_adv_data_{{attack}}.tsv"
    threads: 1
    resources:
        **resources_of("attack"),
    params:
        **model_params(
            "deepcustom_adv_data",
            batch_size_eval=True,
            attack=config_provider("attacks", "{attack}"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule deepcustom_robust:
    """A model adversarially trained on one attack (Goodfellow's mix): on the stored data of rule
    deepcustom_adv_data (the seed's protocol) or crafted on the fly against the model being trained.
    """
    input:
        data=data_file,
        generators=lambda w: dgn_generators(w) if not deepcustom_stored() else [],
        stored=lambda w: (
            [path("deepcustom_adv_train", w)] if deepcustom_stored() else []
        ),
    output:
        model=path("deepcustom_model", robust="robust_{attack}"),
        summary=path("deepcustom_summary", robust="robust_{attack}"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/deepcustom_robust_{{attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/deepcustom_robust_{{attack}}.tsv"
    threads: 1
    resources:
        **resources_of("train_original"),
    params:
        **model_params(
            "deepcustom_robust",
            attack=config_provider("attacks", "{attack}"),
            train=lambda w: {
                **dataset_config(w)["train"],
                **config["deepcustom"]["train"],
            },
            alpha_mix=config_provider("deepcustom", "alpha_mix"),
            adversarial_data=config_provider(
                "deepcustom", "adversarial_data", default="stored"
            ),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule deepcustom_eval:
    """Accuracy of one model of the matrix on Test under one attack. transfer (the seed's protocol): on the
    stored Adv.Test of the attack, made once against the original model (rule attack); whitebox: gradient
    attacks re-run against the evaluated model (DGN data from the generators trained against the original).
    """
    input:
        data=data_file,
        model=deepcustom_model,
        generators=lambda w: dgn_generators(w) if w.protocol == "whitebox" else [],
        adversarial=lambda w: (
            [path("adversarial", w, attack=w.eval_attack)]
            if w.protocol == "transfer"
            else []
        ),
    output:
        result=path("deepcustom_eval"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/deepcustom_eval_{{robust}}_{{protocol}}_{{eval_attack}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/deepcustom_eval_{{robust}}_{{protocol}}_{{eval_attack}}.tsv"
    wildcard_constraints:
        robust=r"original|robust_[A-Za-z0-9_]+",
        protocol=r"transfer|whitebox",
        eval_attack=r"[A-Za-z0-9_]+",
    threads: 1
    resources:
        **resources_of("attack"),
    params:
        **model_params(
            "deepcustom_eval",
            batch_size_eval=True,
            attack=config_provider("attacks", "{eval_attack}"),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule deepcustom_table:
    """Seed 003's robustness matrix (model x attack accuracy on Test) as CSV, Markdown and one heat map per
    dataset: the transfer matrix (the seed's protocol) and, with deepcustom.whitebox, the white-box one.
    """
    input:
        results=lambda w: [
            path(
                "deepcustom_eval",
                dataset=d,
                rep=rep,
                robust=m,
                protocol=protocol,
                eval_attack=a,
            )
            for protocol in deepcustom_protocols()
            for d in config["datasets"]
            for rep in REPS
            for m in ["original"] + [f"robust_{r}" for r in robust_names()]
            for a in config["attacks"]
        ],
    output:
        [
            (
                report(
                    p,
                    caption="../report/deepcustom.rst",
                    category="DeepCustom",
                    labels={"file": Path(p).name},
                )
                if p.endswith((".csv", ".png"))
                else p
            )
            for p in deepcustom_outputs()
            if "suspiciousness_" not in p
        ],
    log:
        f"{R}/logs/deepcustom_table.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("deepcustom_table"),
        source=config_source(),
        datasets=list(config["datasets"]),
        attacks=list(config["attacks"]),
        protocols=deepcustom_protocols(),
        models=lambda w: ["original"] + [f"robust_{r}" for r in robust_names()],
        results=lambda w, output: str(Path(output[0]).parents[1]),
    run:
        run(rule, input, output, params, wildcards, threads, log)
