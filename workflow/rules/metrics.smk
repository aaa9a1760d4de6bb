rule score:
    """Score every input of Train* with one metric; record the wall time."""
    input:
        unpack(score_inputs),
    output:
        scores=path("scores"),
        summary=path("score_summary"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/score_{{metric}}.log",
    benchmark:
        f"{R}/benchmarks/{{dataset}}/r{{rep}}/{{attack}}/score_{{metric}}.tsv"
    resources:
        **resources_of("score"),
    params:
        **model_params(
            "score",
            kind=lambda w: metric_kind(w.metric),
            options=config_provider("metrics", "{metric}"),
            layers=lambda w: metric_layers(w.metric, w.dataset),
        ),
    run:
        run(rule, input, output, params, wildcards, threads, log)


rule order:
    """Order Train* by descending score, ties in a seeded random order (random: a seeded
    permutation); order strategies (MCP) give their order directly."""
    input:
        scores=path("scores"),
    output:
        order=path("order"),
    log:
        f"{R}/logs/{{dataset}}/r{{rep}}/{{attack}}/order_{{metric}}.log",
    resources:
        **resources_of("order"),
    params:
        code=code_of("order"),
        seed=rep_seed,
    run:
        run(rule, input, output, params, wildcards, threads, log)
