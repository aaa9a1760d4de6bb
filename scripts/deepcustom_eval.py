"""Rule deepcustom_eval: accuracy of one model of seed 003's matrix on Test under one grid attack."""

import time

from guided_retraining.attacks import attack_from_config
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import result_provenance, save_json
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    attack = attack_from_config(p.attack, derive_seed(p.seed, w.dataset, w.robust, w.eval_attack),
                                job.input.generators, data.shape, data.n_classes)
    start = time.perf_counter()
    result = attack.run(model, data["x_test"], data["y_test"], p.batch_size_eval, p.device, log,
                        f"{w.eval_attack} against {w.robust}")
    seconds = time.perf_counter() - start
    acc = accuracy(model, result.x_adv, data["y_test"], p.batch_size_eval, p.device)
    save_json(job.output.result, {
        "dataset": w.dataset, "rep": int(w.rep), "model": w.robust, "attack": w.eval_attack, "settings": p.attack, "accuracy": acc,
        "attack_seconds": seconds, "attack_summary": result.summary(), "seed": p.seed, **result_provenance(p.device),
    })
    log.info("%s under %s: accuracy %.4f (attack %.1f s)", w.robust, w.eval_attack, acc, seconds)


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
