rule retrain:
    """Retrain at one data point of one configuration and metric; evaluate on Test*, Test, Adv.Test
    and on the Adv.Test of every attack of the grid (cross-evaluation)."""
    input:
        data=rules.prepare.output.data,
        adversarial=rules.attack.output.adversarial,
        model=rules.train_original.output.model,
        order=rules.order.output.order,
        cross=lambda w: [f"{R}/{w.dataset}/{a}/adversarial.npz" for a in config["attacks"]],
    output:
        result=f"{R}/{{dataset}}/{{attack}}/retrain/{{configuration}}/{{metric}}/{{point}}.json",
    params:
        arch=arch_param,
        train=retrain_settings,
        data_points=N_POINTS,
        attacks=list(config["attacks"]),
        step=lambda w: dataset_config(w).get("steps", {}).get(w.configuration),
        batch_size_eval=lambda w: dataset_config(w)["batch_size_eval"],
        device=config["device"],
        seed=config["seed"],
    resources:
        **resources_of("retrain"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/retrain_{{configuration}}_{{metric}}_{{point}}.log",
    run:
        run("retrain", input, output, params, wildcards, threads, log)
