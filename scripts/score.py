"""Rule score: one score per input of Train* with one metric, and its wall and CPU time."""

import time

import numpy as np

from guided_retraining import metrics
from guided_retraining.io import load_npz, provenance, save_json, save_npz
from guided_retraining.seeding import derive_seed


def main(job, log):
    p, w = job.params, job.wildcards
    soft = load_npz(job.input.softmax, ["probs", "pred", "n_train"])
    n_train = int(soft["n_train"])
    target = {"probs": soft["probs"], "pred": soft["pred"]}
    for layer in p.layers:
        acts = load_npz(job.input[f"layer_{layer}"], ["acts", "n_train"])["acts"]
        if len(acts) != len(target["probs"]):
            raise ValueError(f"{job.input[f'layer_{layer}']}: {len(acts)} rows, expected {len(target['probs'])}")
        target[f"layer:{layer}"] = acts
    n = len(target["probs"])
    target["ref_index"] = np.where(np.arange(n) < n_train, np.arange(n), -1).astype(np.int64)
    reference = {k: v[:n_train] for k, v in target.items() if k != "ref_index"}
    options = {k: v for k, v in p.options.items() if k != "kind"}
    if p.layers:
        options["layers"] = list(p.layers)
    if "device" in metrics.METRIC_OPTIONS[p.kind]:
        from guided_retraining.training import resolve_device

        options["device"] = resolve_device(options.get("device", p.device)).type
    seed = derive_seed(p.seed, w.dataset, w.attack, "score", w.metric)
    start, cpu = time.perf_counter(), time.thread_time()
    if p.kind in metrics.MODEL_METRICS:
        scores, info = _model_metric(job, p, options, seed, log)
    else:
        scores, info = metrics.score(p.kind, target, reference, options, seed=seed, log=log)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (n,) or np.isnan(scores).any():
        raise ValueError(f"metric {w.metric}: expected {n} scores without NaN, got shape {scores.shape}"
                         f" with {int(np.isnan(scores).sum())} NaN")
    save_npz(job.output.scores, scores=scores, n_train=np.int64(n_train))
    save_json(job.output.summary, {
        "dataset": w.dataset, "rep": int(w.rep), "attack": w.attack, "metric": w.metric, "kind": p.kind, "options": p.options,
        "layers": list(p.layers), "seed": p.seed, "job_seed": seed, "n": n, "n_reference": n_train,
        "seconds": seconds, "cpu_seconds": cpu_seconds, "info": info, "versions": provenance(),
    })
    log.info("%s: %d scores in %.3f s (cpu %.3f s)", w.metric, n, seconds, cpu_seconds)


def _model_metric(job, p, options, seed, log):
    from guided_retraining.datasets.prepared import load_adversarial, load_prepared, train_star
    from guided_retraining.models import load_model

    data = load_prepared(job.input.data)
    adv = load_adversarial(job.input.adversarial, data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    x, _ = train_star(data, adv)
    kwargs = {k: v for k, v in options.items() if k not in ("device", "layers")}
    return metrics.mc_dropout_variation_ratio(model, x, seed=seed, **kwargs), {}


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
