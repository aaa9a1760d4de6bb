"""Rule activations: one layer's activations (or, for ``softmax``, the logits and their float64 softmax
probabilities) of the original model over Train*.

Train* = Train followed by Adv.Train; the first ``n_train`` rows are the reference set of
the surprise-adequacy metrics (the study's setting).
"""

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
    acts = extract(model, x, layers, p.batch_size_eval, p.device, log)
    meta = {"n_train": np.int64(len(data["x_train"]))}
    if w.layer == "softmax":
        save_npz(job.output.activations, logits=acts["logits"], probs=acts["probs"], pred=acts["pred"], **meta)
    else:
        save_npz(job.output.activations, acts=acts[f"layer:{w.layer}"], **meta)
    log.info("%s activations of %d inputs", w.layer, len(x))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
