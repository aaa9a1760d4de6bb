"""Rule activations: one layer's activations (or, for ``softmax``, the logits and their float64 softmax
probabilities) of the original model over Train* and the validation split.

Train* = Train followed by Adv.Train; the first ``n_train`` rows are the reference set of
the surprise-adequacy metrics (the study's setting); the ``*_val`` arrays hold the validation
split's (the ``reference: validation`` option). ``idx_adv_train`` (each Adv.Train row's clean
source in Train) and the forward pass's wall and CPU time (``seconds``, ``cpu_seconds``: Table 5's
input cost) are stored beside them.
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
    val = extract(model, data["x_val"], layers, p.batch_size_eval, p.device, log)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu
    meta = {"n_train": np.int64(len(data["x_train"])), "idx_adv_train": adv["idx_adv_train"].astype(np.int64),
            "seconds": np.float64(seconds), "cpu_seconds": np.float64(cpu_seconds)}
    if w.layer == "softmax":
        save_npz(job.output.activations, logits=acts["logits"], probs=acts["probs"], pred=acts["pred"],
                 probs_val=val["probs"], pred_val=val["pred"], **meta)
    else:
        save_npz(job.output.activations, acts=acts[f"layer:{w.layer}"], acts_val=val[f"layer:{w.layer}"], **meta)
    log.info("%s activations of %d inputs and %d validation inputs in %.2f s (cpu %.2f s)", w.layer, len(x),
             len(data["x_val"]), seconds, cpu_seconds)


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
