"""Rule score: one score per input of Train* with one metric, its wall and CPU time, and the times of the
forward passes it reads (``charged``: Table 5 charges a metric only those, over Train*)."""

import time

import numpy as np

from guided_retraining import metrics
from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, result_provenance, save_json, save_npz
from guided_retraining.seeding import derive_seed

# the activation job's forward-pass times, stored in its file: Train*'s and the validation split's (Table 5)
TIMES = ("seconds", "cpu_seconds", "val_seconds", "val_cpu_seconds")


def main(job, log):
    p, w = job.params, job.wildcards
    entry = metrics.METRICS[p.kind]
    soft = load_npz(job.input.softmax, ["probs", "pred", "probs_val", "pred_val", "n_train", "idx_adv_train",
                                        *TIMES])
    n_train = int(soft["n_train"])
    target = {"probs": soft["probs"], "pred": soft["pred"]}
    validation = {"probs": soft["probs_val"], "pred": soft["pred_val"]}
    times = {"softmax": _times(soft)}
    for i, layer in enumerate(p.layers):
        acts = load_npz(job.input[f"layer_{layer}"], ["acts", "acts_val", "pred", "pred_val", *TIMES])
        if len(acts["acts"]) != len(target["probs"]):
            raise DataError(f"{job.input[f'layer_{layer}']}: {len(acts['acts'])} rows, expected {len(target['probs'])}")
        target[f"layer:{layer}"], validation[f"layer:{layer}"] = acts["acts"], acts["acts_val"]
        if i == 0 and "probabilities" not in entry.reads:  # the predicted classes of the pass that gave the traces
            target["pred"], validation["pred"] = acts["pred"], acts["pred_val"]
        times[layer] = _times(acts)
    charged = metrics.charged_inputs(p.kind, p.options, p.layers)
    charged_times = {name: times[name.split(":")[0]][2:] if name.endswith(":validation") else times[name][:2]
                     for name in charged}
    n = len(target["probs"])
    target, reference = metrics.train_star_inputs(target, n_train, soft["idx_adv_train"])
    if p.options.get("reference") == "validation":  # the validation split's traces: no overlap, nothing to exclude
        reference, target["ref_index"] = validation, np.full(n, -1, dtype=np.int64)
    if "labels" in entry.reads or "model" in entry.reads:
        _read_data(job, p, entry, target, reference, n_train)
    options = {k: v for k, v in p.options.items() if k != "kind"}
    if p.layers:
        options["layers"] = list(p.layers)
    if "device" in entry.options:
        from guided_retraining.hardware import device_note
        from guided_retraining.training import resolve_device

        requested = options.get("device", p.device)
        options["device"] = str(resolve_device(requested))  # cuda:N kept
        if device_note(requested) and requested != p.device:  # the job's own device: logged by the runner
            log.warning("metrics.%s.%s", w.metric, device_note(requested))
    seed = derive_seed(p.seed, w.dataset, w.attack, "score", w.metric)
    kernel_seconds = metrics.prepare(p.kind, options.get("device", "cpu"))  # compiling is not the metric's time
    if kernel_seconds > 0.5:
        log.info("%s: its compiled kernels were ready in %.1f s (not counted in its time)", w.metric, kernel_seconds)
    start, cpu = time.perf_counter(), time.thread_time()
    result = metrics.evaluate(p.kind, target, reference, options, seed=seed, log=log)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    scores = result.scores
    if scores.shape != (n,) or np.isnan(scores).any():
        raise ValueError(f"metric {w.metric}: expected {n} scores without NaN, got shape {scores.shape}"
                         f" with {int(np.isnan(scores).sum())} NaN")
    order = {} if result.order is None else {"order": result.order}
    save_npz(job.output.scores, scores=scores, n_train=np.int64(n_train), **order)
    save_json(job.output.summary, {
        "dataset": w.dataset, "rep": int(w.rep), "attack": w.attack, "metric": w.metric, "kind": p.kind,
        "options": p.options, "layers": list(p.layers), "seed": p.seed, "job_seed": seed, "n": n,
        "n_reference": len(reference["pred"]), "scores_are_ranks": result.order is not None,
        "seconds": seconds, "cpu_seconds": cpu_seconds, "kernel_seconds": kernel_seconds,
        # the forward passes this metric reads (metrics.charged_inputs: Table 5 charges only these), wall and CPU
        "input_seconds": {k: v[0] for k, v in charged_times.items()},
        "input_cpu_seconds": {k: v[1] for k, v in charged_times.items()}, "info": result.info,
        **result_provenance(options.get("device", "cpu")),
    })
    log.info("%s: %d scores in %.3f s (cpu %.3f s)", w.metric, n, seconds, cpu_seconds)


def _times(arrays) -> tuple[float, float, float, float]:
    """Wall and CPU seconds of the activation job that wrote ``arrays``: over Train*, then over the validation split."""
    return tuple(float(arrays[k]) for k in TIMES)


def _read_data(job, p, entry, target, reference, n_train):
    """Training labels (DATIS) and the model with Train*'s images (MC dropout)."""
    from guided_retraining.datasets.prepared import load_adversarial, load_prepared, train_star

    data = load_prepared(job.input.data)
    if len(data["y_train"]) != n_train:
        raise DataError(f"{job.input.data}: {len(data['y_train'])} training labels, {job.input.softmax} has {n_train}")
    reference["label"] = data["y_train"]
    if "model" in entry.reads:
        from guided_retraining.models import load_model

        target["model"] = load_model(job.input.model, p.arch, data.shape, data.n_classes)
        target["inputs"], _ = train_star(data, load_adversarial(job.input.adversarial, data))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
