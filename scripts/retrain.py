"""Rule retrain: retrain at one data point of one configuration and metric, then evaluate.

The retraining's wall and CPU time (``retrain_seconds``, ``retrain_cpu_seconds``: building the model,
loading the original weights, training; not the evaluation, the same for every metric) are recorded
for the retraining-time table (seed 001's third outcome). CPU time is the job thread's (all of it
with the rule's one thread: PyTorch then computes in the calling thread).
"""

import time

from guided_retraining.datasets.prepared import load_adversarial, load_order, load_prepared
from guided_retraining.io import result_provenance, save_json
from guided_retraining.retraining import RetrainJob, is_regular, retrain
from guided_retraining.training import TrainSettings, accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    adv = load_adversarial(job.input.adversarial, data)
    order = load_order(job.input.order, data, adv)
    n_train = len(data["x_train"])
    start, cpu = time.perf_counter(), time.thread_time()
    point = RetrainJob(w.dataset, w.attack, w.configuration, w.point, p.data_points, p.step, p.seed)
    model, used, total, seeds = retrain(data, adv, order, point, TrainSettings.from_config(p.train),
                                        original_weights=job.input.model, arch=p.arch, device=p.device, log=log)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu

    def acc(x, y):
        return accuracy(model, x, y, p.batch_size_eval, p.device)

    acc_test, acc_adv = acc(data["x_test"], data["y_test"]), acc(adv["x_adv_test"], adv["y_adv_test"])
    n_test, n_adv = len(data["x_test"]), len(adv["x_adv_test"])
    acc_val, acc_adv_val = acc(data["x_val"], data["y_val"]), acc(adv["x_adv_val"], adv["y_adv_val"])
    n_val, n_adv_val = len(data["x_val"]), len(adv["x_adv_val"])
    cross = {}  # cross-evaluation: the Adv.Test of every attack of the grid
    for attack, path in zip(p.attacks, job.input.cross):
        if attack == w.attack:
            cross[attack] = acc_adv
            continue
        other = load_adversarial(path, data)
        cross[attack] = acc(other["x_adv_test"], other["y_adv_test"])
    result = {
        "dataset": w.dataset, "rep": int(w.rep), "attack": w.attack, "configuration": w.configuration, "metric": w.metric,
        "point": w.point, "k": int(w.point[1:]) if is_regular(w.point) else None, "data_points": p.data_points,
        "inputs_used": int(len(used)), "inputs_total": int(total), "adversarial_used": int((used >= n_train).sum()),
        "acc_test_star": (acc_test * n_test + acc_adv * n_adv) / (n_test + n_adv),
        "acc_test": acc_test, "acc_adv_test": acc_adv, "acc_adv_test_by_attack": cross,
        "acc_val_star": (acc_val * n_val + acc_adv_val * n_adv_val) / (n_val + n_adv_val),
        "acc_val": acc_val, "acc_adv_val": acc_adv_val,
        "retrain_seconds": seconds, "retrain_cpu_seconds": cpu_seconds,
        "train": p.train, "seed": p.seed, "init_seed": seeds["init"], "train_seed": seeds["train"],
        **result_provenance(p.device),
    }
    save_json(job.output.result, result)
    log.info("%s %s %s: %d/%d inputs, Test* %.4f, retrained in %.2f s (cpu %.2f s)", w.configuration, w.metric,
             w.point, len(used), total, result["acc_test_star"], seconds, cpu_seconds)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
