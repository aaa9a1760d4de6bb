"""Rule deepcustom_eval: accuracy of one model of seed 003's matrix on Test under one grid attack.

transfer (the seed's protocol, its evaluate.py): the attack's stored Adv.Test, made once against the original
model by rule attack; whitebox: the attack re-run against the evaluated model (a DGN's data come from its
generators either way)."""

import time

from guided_retraining.attacks import attack_from_config
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, result_provenance, save_json
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    start = time.perf_counter()
    summary = None
    if w.protocol == "transfer":
        stored = load_npz(job.input.adversarial[0])
        x_adv, y = stored["x_adv_test"], stored["y_adv_test"]
        if len(y) != len(data["y_test"]) or (y != data["y_test"]).any():
            raise DataError(f"{job.input.adversarial[0]}: its Adv.Test labels are not those of Test in {job.input.data}")
    else:
        attack = attack_from_config(p.attack, derive_seed(p.seed, w.dataset, w.robust, w.eval_attack),
                                    job.input.generators, data.shape, data.n_classes)
        result = attack.run(model, data["x_test"], data["y_test"], p.batch_size_eval, p.device, log,
                            f"{w.eval_attack} against {w.robust}")
        x_adv, y, summary = result.x_adv, data["y_test"], result.summary()
    seconds = time.perf_counter() - start
    acc = accuracy(model, x_adv, y, p.batch_size_eval, p.device)
    save_json(job.output.result, {
        "dataset": w.dataset, "rep": int(w.rep), "model": w.robust, "attack": w.eval_attack, "protocol": w.protocol,
        "settings": p.attack, "accuracy": acc, "attack_seconds": seconds, "attack_summary": summary,
        "adversarial": job.input.adversarial[0] if w.protocol == "transfer" else None,
        "seed": p.seed, **result_provenance(p.device),
    })
    log.info("%s under %s (%s): accuracy %.4f (%.1f s)", w.robust, w.eval_attack, w.protocol, acc, seconds)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
