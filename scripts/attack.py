"""Rule attack: Adv.Train from a seeded subset of Train, Adv.Val from all of Val and Adv.Test from all of Test."""

import numpy as np

from guided_retraining.attacks import SoftmaxAsLogits, attack_from_config, filter_successful
from guided_retraining.errors import ConfigError, ModelError
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import result_provenance, save_json, save_npz
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import accuracy, predict_logits


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    n_train = len(data["x_train"])
    if p.adv_train_size > n_train:
        raise ConfigError(f"datasets.{w.dataset}.adv_train_size: {p.adv_train_size} exceeds the {n_train} training inputs")
    # the subset depends on the dataset only: every attack of the grid perturbs the same training inputs
    seed = derive_seed(p.seed, w.dataset, "adv_train_subset")
    idx = np.sort(np.random.default_rng(seed).choice(n_train, size=p.adv_train_size, replace=False))
    # Adv.Val and Adv.Test may come from another attack (adv_test: the study's v2 made Adv.Train with the mix,
    # Adv.Test with FGSM); Adv.Val is made as Adv.Test, so choosing on Val* mirrors evaluating on Test*
    test_settings = p.attack["adv_test"] or p.attack
    seed_attack = derive_seed(p.seed, w.dataset, w.attack, "attack")
    # dgn: with the generators of rule train_dgn
    generators = getattr(job.input, "generators", [])  # absent in jobs built by hand (tests)
    train_attack = attack_from_config(p.attack, seed_attack, generators, data.shape, data.n_classes)
    test_attack = attack_from_config(test_settings, seed_attack, generators, data.shape, data.n_classes) \
        if p.attack["adv_test"] else train_attack
    target = SoftmaxAsLogits(model) if p.attack["softmax_as_logits"] else model
    x_sub, y_sub = data["x_train"][idx], data["y_train"][idx]
    adv_train = train_attack.run(target, x_sub, y_sub, p.batch_size_eval, p.device, log, f"{w.attack} on Train subset")
    test_label = f"{w.attack} ({test_settings['kind']})"
    adv_val = test_attack.run(target, data["x_val"], data["y_val"], p.batch_size_eval, p.device, log,
                              f"{test_label} on Val")
    adv_test = test_attack.run(target, data["x_test"], data["y_test"], p.batch_size_eval, p.device, log,
                               f"{test_label} on Test")
    correct_before = predict_logits(model, x_sub, p.batch_size_eval, p.device).argmax(axis=1) == y_sub
    fooled = adv_train.success & correct_before
    x_adv_train, y_adv_train, success = adv_train.x_adv, y_sub, adv_train.success
    if p.attack["keep_successful"] or p.attack.get("mis_classification_check"):  # only the inputs it fooled
        x_adv_train, y_adv_train, kept = filter_successful(adv_train, x_sub, y_sub, correct_before)
        idx, success = idx[kept], success[kept]
        if not len(idx):
            raise ModelError(f"attacks.{w.attack}: keep_successful (or mis_classification_check) left no Adv.Train input:"
                             f" the attack fooled none of the {len(y_sub)}; raise eps or steps, or turn the option off")
        log.info("kept the %d of %d Adv.Train inputs the attack fooled (correct before, wrong after)",
                 len(idx), p.adv_train_size)
    save_npz(job.output.adversarial,
             x_adv_train=x_adv_train, y_adv_train=y_adv_train, idx_adv_train=idx.astype(np.int64),
             success_train=success, x_adv_val=adv_val.x_adv, y_adv_val=data["y_val"], success_val=adv_val.success,
             x_adv_test=adv_test.x_adv, y_adv_test=data["y_test"], success_test=adv_test.success)
    acc_test = accuracy(model, data["x_test"], data["y_test"], p.batch_size_eval, p.device)
    acc_adv = accuracy(model, adv_test.x_adv, data["y_test"], p.batch_size_eval, p.device)
    n_test = len(data["x_test"])
    acc_val = accuracy(model, data["x_val"], data["y_val"], p.batch_size_eval, p.device)
    acc_adv_val = accuracy(model, adv_val.x_adv, data["y_val"], p.batch_size_eval, p.device)
    summary = {
        "dataset": w.dataset, "rep": int(w.rep), "attack": w.attack, "settings": p.attack, "seed": p.seed,
        "job_seed": seed, "adv_test_attack": test_settings["kind"],
        "adv_train": adv_train.summary(), "adv_test": adv_test.summary(), "adv_train_kept": int(len(idx)),
        # misclassified after the attack (success) against fooled: also classified correctly before it
        "adv_train_misclassified": int(adv_train.success.sum()), "adv_train_fooled": int(fooled.sum()),
        "adv_train_correct_before": int(correct_before.sum()),
        "original_acc_test": acc_test, "original_acc_adv_test": acc_adv,
        "original_acc_test_star": (acc_test * n_test + acc_adv * n_test) / (2 * n_test),
        "adv_val": adv_val.summary(), "original_acc_val": acc_val, "original_acc_adv_val": acc_adv_val,
        "original_acc_val_star": (acc_val + acc_adv_val) / 2,
        **result_provenance(p.device),
    }
    save_json(job.output.summary, summary)
    log.info("original accuracy: Test %.4f, Adv.Test %.4f; attack success on Train subset %.3f (fooled %d of %d"
             " correct), on Test %.3f", acc_test, acc_adv, summary["adv_train"]["success_rate"], int(fooled.sum()),
             int(correct_before.sum()), summary["adv_test"]["success_rate"])


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
