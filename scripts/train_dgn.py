"""Rule train_dgn: one DGN generator per class against the original model (seed 003, DeepCustom)."""

import time

import numpy as np

from guided_retraining.attacks import attack_settings, make_attack
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.deepcustom.generators import save_generators
from guided_retraining.io import load_npz, result_provenance, save_json
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    seed = derive_seed(p.seed, w.dataset, w.attack, "dgn")  # the seed's label (the same seeds as before)
    attack = make_attack(p.attack["kind"], seed=seed, **attack_settings(p.attack))  # the workflow's keys left out
    scores = None
    if job.input.suspiciousness:
        arrays = load_npz(job.input.suspiciousness[0])
        scores = {str(n): arrays[f"tarantula:{n}"] for n in arrays["layers"]}
    start = time.perf_counter()
    losses = attack.fit(model, data["x_train"], data["y_train"], data.n_classes, scores, p.device, log)
    seconds = time.perf_counter() - start
    save_generators(job.output.generators, attack.generators)
    save_json(job.output.summary, {
        "dataset": w.dataset, "attack": w.attack, "settings": p.attack, "seed": p.seed, "job_seed": seed,
        "train_seconds": seconds, "inputs_per_class": np.bincount(data["y_train"], minlength=data.n_classes).tolist(),
        "losses": losses, **result_provenance(p.device),
    })
    log.info("trained %d generators in %.1f s", data.n_classes, seconds)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
