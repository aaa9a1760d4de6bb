rule retrain:
    """Retrain at one data point of one configuration and metric; evaluate on Test*, Test, Adv.Test
    and on the Adv.Test of every attack of the grid (cross-evaluation)."""
    input:
        data=data_file,
        adversarial=path("adversarial"),
        model=path("original_model"),
        order=path("order"),
        cross=lambda w: [path("adversarial", w, attack=a) for a in config["attacks"]],
    output:
        result=path("retrain"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/retrain_{{configuration}}_{{metric}}_{{point}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/retrain_{{configuration}}_{{metric}}_{{point}}.tsv"
    resources:
        **resources_of("retrain"),
    params:
        **model_params(
            "retrain",
            batch_size_eval=True,
            train=retrain_settings,
            # a budget point's size depends on its own name only: data_points and steps leave it alone
            data_points=lambda w: None if is_budget(w.point) else N_POINTS,
            attacks=list(config["attacks"]),
            step=lambda w: (
                None
                if is_budget(w.point)
                else dataset_config(w).get("steps", {}).get(w.configuration)
            ),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)
