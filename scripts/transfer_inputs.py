"""Rule transfer_inputs: adversarial Test inputs crafted once against the undefended model (run 004's
transfer protocol: the same inputs are then given to every defended model)."""

import numpy as np

from guided_retraining.attacks import make_attack
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import save_npz
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    x, y = data["x_test"], data["y_test"]
    if p.attack["kind"] != "none":
        model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
        settings = {k: v for k, v in p.attack.items() if k != "kind"}
        attack = make_attack(p.attack["kind"], seed=derive_seed(p.seed, w.dataset, "transfer", w.eval_attack),
                             **settings)
        x = attack.run(model, x, y, p.batch_size_eval, p.device, log, f"{w.eval_attack} against the original").x_adv
    save_npz(job.output.adversarial, x_adv=x.astype(np.float32), y=y)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
