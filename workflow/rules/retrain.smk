rule retrain:
    """Retrain at one data point of one configuration and metric; evaluate on Test*, Test, Adv.Test
    and on the Adv.Test of every attack of the grid (cross-evaluation)."""
    input:
        data=data_file,
        adversarial=rules.attack.output.adversarial,
        model=rules.train_original.output.model,
        order=rules.order.output.order,
        cross=lambda w: [
            f"{R}/{w.dataset}/r{w.rep}/{a}/adversarial.npz" for a in config["attacks"]
        ],
    output:
        result=f"{R}/{{dataset}}/r{{rep}}/{{attack}}/retrain/{{configuration}}/{{metric}}/{{point}}.json",
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/retrain_{{configuration}}_{{metric}}_{{point}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/retrain_{{configuration}}_{{metric}}_{{point}}.tsv"
    resources:
        **resources_of("retrain"),
    params:
        code=code_of("retrain"),
        arch=arch_param,
        train=retrain_settings,
        # a budget point's size depends on its own name only: data_points and steps leave it alone
        data_points=lambda w: None if is_budget(w.point) else N_POINTS,
        attacks=list(config["attacks"]),
        step=lambda w: (
            None
            if is_budget(w.point)
            else dataset_config(w).get("steps", {}).get(w.configuration)
        ),
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        deterministic=config["deterministic"],
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)
