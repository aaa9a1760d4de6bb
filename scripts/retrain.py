"""Rule retrain: retrain at one data point of one configuration and metric, then evaluate."""

import numpy as np

from guided_retraining.errors import DataError
from guided_retraining.datasets.prepared import load_adversarial, load_prepared
from guided_retraining.io import load_npz, load_state_dict, provenance, save_json
from guided_retraining.models import build_model
from guided_retraining.retraining import CONFIGURATIONS, pool, selection
from guided_retraining.seeding import derive_seed
from guided_retraining.training import TrainSettings, accuracy, train


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    adv = load_adversarial(job.input.adversarial, data)
    order_file = load_npz(job.input.order, ["order", "n_train"])
    order, n_train = order_file["order"], int(order_file["n_train"])
    x_star = np.concatenate([data["x_train"], adv["x_adv_train"]])
    y_star = np.concatenate([data["y_train"], adv["y_adv_train"]])
    if n_train != len(data["x_train"]) or sorted(order.tolist()) != list(range(len(x_star))):
        raise DataError(f"{job.input.order}: not a permutation of the {len(x_star)} inputs of Train*")
    if w.point == "atc3":  # C2 at C3's total input count (Table 4)
        used = pool(order, n_train, w.configuration)[: len(adv["x_adv_train"])]
        k = None
    else:
        k = int(w.point[1:])
        used = selection(order, n_train, w.configuration, k, p.data_points, p.step)
    total = len(pool(order, n_train, w.configuration))
    init_seed = derive_seed(p.seed, w.dataset, w.attack, w.configuration, w.point, "init")
    model = build_model(p.arch, data.shape, data.n_classes, seed=init_seed)
    if CONFIGURATIONS[w.configuration]["from_original"]:
        load_state_dict(job.input.model, model)
    settings = TrainSettings.from_config(p.train)
    train_seed = derive_seed(p.seed, w.dataset, w.attack, w.configuration, w.point, "train")
    train(model, x_star[used], y_star[used], settings, train_seed, p.device, log,
          f"retrain {w.configuration} {w.metric} {w.point}")
    acc_test = accuracy(model, data["x_test"], data["y_test"], p.batch_size_eval, p.device)
    acc_adv = accuracy(model, adv["x_adv_test"], adv["y_adv_test"], p.batch_size_eval, p.device)
    n_test, n_adv = len(data["x_test"]), len(adv["x_adv_test"])
    cross = {}  # cross-evaluation: the Adv.Test of every attack of the grid
    for attack, path in zip(p.attacks, job.input.cross):
        other = adv if attack == w.attack else load_adversarial(path, data)
        cross[attack] = accuracy(model, other["x_adv_test"], other["y_adv_test"], p.batch_size_eval, p.device)
    result = {
        "dataset": w.dataset, "attack": w.attack, "configuration": w.configuration, "metric": w.metric,
        "point": w.point, "k": k, "data_points": p.data_points,
        "inputs_used": int(len(used)), "inputs_total": int(total),
        "adversarial_used": int((used >= n_train).sum()),
        "acc_test_star": (acc_test * n_test + acc_adv * n_adv) / (n_test + n_adv),
        "acc_test": acc_test, "acc_adv_test": acc_adv, "acc_adv_test_by_attack": cross,
        "train": p.train, "seed": p.seed, "init_seed": init_seed, "train_seed": train_seed,
        "versions": provenance(),
    }
    save_json(job.output.result, result)
    log.info("%s %s %s: %d/%d inputs, Test* %.4f", w.configuration, w.metric, w.point, len(used), total,
             result["acc_test_star"])


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
