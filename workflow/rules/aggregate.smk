rule aggregate:
    """Tables 3, 4 and 5 (CSV and Markdown) and Figure 3 (PNG and PDF) over the whole grid."""
    input:
        retrain=[f for d, a in grid() for f in retrain_outputs(d, a)],
        attacks=[f"{R}/{d}/{a}/attack.json" for d, a in grid()],
        scores=[f"{R}/{d}/{a}/scores/{m}.json" for d, a in grid() for m in config["metrics"]],
    output:
        aggregate_outputs(),
    params:
        include_original=config.get("aggregate", {}).get("include_original_in_best", False),
        source=config_source(),
        grid=grid(),
        results=R,
    resources:
        **resources_of("aggregate"),
    log:
        f"{R}/logs/aggregate.log",
    run:
        run("aggregate", input, output, params, wildcards, threads, resources, log)
