"""Rule activations: one layer's activations (or, for ``softmax``, the logits and their float64 softmax
probabilities) of the original model over Train* and the validation split.

Train* = Train followed by Adv.Train; the first ``n_train`` rows are the reference set of
the surprise-adequacy metrics (the study's setting); the ``*_val`` arrays hold the validation
split's (the ``reference: validation`` option). A layer's file also holds the predicted classes
(``pred``, ``pred_val``) of the same forward pass, so a metric that reads traces and predicted
classes (LSA, DSA) reads one pass. ``idx_adv_train`` (each Adv.Train row's clean source in Train)
and the forward passes' wall and CPU times are stored beside them, Train*'s (``seconds``,
``cpu_seconds``: Table 5 charges them to the metrics that read this file) apart from the validation
split's (``val_seconds``, ``val_cpu_seconds``: charged only to a metric that reads the validation
traces, ``reference: validation``).
"""

import time

import numpy as np

from guided_retraining.activations import extract
from guided_retraining.datasets.prepared import load_adversarial, load_prepared, train_star
from guided_retraining.io import save_npz
from guided_retraining.models import load_model


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    adv = load_adversarial(job.input.adversarial, data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    x, _ = train_star(data, adv)
    layers = [] if w.layer == "softmax" else [w.layer]
    start, cpu = time.perf_counter(), time.thread_time()
    acts = extract(model, x, layers, p.batch_size_eval, p.device, log)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    start, cpu = time.perf_counter(), time.thread_time()
    val = extract(model, data["x_val"], layers, p.batch_size_eval, p.device, log)
    val_seconds, val_cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    meta = {"n_train": np.int64(len(data["x_train"])), "idx_adv_train": adv["idx_adv_train"].astype(np.int64),
            "seconds": np.float64(seconds), "cpu_seconds": np.float64(cpu_seconds),
            "val_seconds": np.float64(val_seconds), "val_cpu_seconds": np.float64(val_cpu_seconds),
            "pred": acts["pred"], "pred_val": val["pred"]}
    if w.layer == "softmax":
        save_npz(job.output.activations, logits=acts["logits"], probs=acts["probs"], probs_val=val["probs"], **meta)
    else:
        save_npz(job.output.activations, acts=acts[f"layer:{w.layer}"], acts_val=val[f"layer:{w.layer}"], **meta)
    log.info("%s activations of %d inputs of Train* in %.2f s (cpu %.2f s), of %d validation inputs in %.2f s"
             " (cpu %.2f s)", w.layer, len(x), seconds, cpu_seconds, len(data["x_val"]), val_seconds, val_cpu_seconds)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
