def score_inputs(w):
    base = f"{R}/{w.dataset}/{w.attack}"
    inputs = {"softmax": f"{base}/activations/softmax.npz"}
    for layer in metric_layers(w.metric, w.dataset):
        inputs[f"layer_{layer}"] = f"{base}/activations/{layer}.npz"
    if metric_kind(w.metric) == "mc_dropout":
        inputs["model"] = f"{R}/{w.dataset}/original/model.pt"
        inputs["data"] = f"{R}/{w.dataset}/data.npz"
        inputs["adversarial"] = f"{base}/adversarial.npz"
    return inputs


rule score:
    """Score every input of Train* with one metric; record the wall time."""
    input:
        unpack(score_inputs),
    output:
        scores=f"{R}/{{dataset}}/{{attack}}/scores/{{metric}}.npz",
        summary=f"{R}/{{dataset}}/{{attack}}/scores/{{metric}}.json",
    params:
        kind=lambda w: metric_kind(w.metric),
        options=lambda w: config["metrics"][w.metric],
        layers=lambda w: metric_layers(w.metric, w.dataset),
        arch=arch_param,
        device=config["device"],
        seed=config["seed"],
    resources:
        **resources_of("score"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/score_{{metric}}.log",
    run:
        run("score", input, output, params, wildcards, threads, log)


rule order:
    """Order Train* by descending score (random: a seeded permutation)."""
    input:
        scores=rules.score.output.scores,
    output:
        order=f"{R}/{{dataset}}/{{attack}}/orders/{{metric}}.npz",
    resources:
        **resources_of("order"),
    log:
        f"{R}/logs/{{dataset}}/{{attack}}/order_{{metric}}.log",
    run:
        run("order", input, output, params, wildcards, threads, log)
