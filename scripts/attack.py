"""Rule attack: Adv.Train from a seeded subset of Train, Adv.Val from all of Val and Adv.Test from all of Test;
for a shift kind (guided_retraining.shifts) the same three side sets made by the shift, in the same files."""

import numpy as np

from guided_retraining.attacks import AttackResult, SoftmaxAsLogits, attack_from_config, filter_successful
from guided_retraining.attacks.base import perturbation_norms
from guided_retraining.errors import ConfigError, ModelError
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import result_provenance, save_json, save_npz
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.shifts import SHIFTS, is_shift, load_source, side_sets
from guided_retraining.training import accuracy, predict_logits


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    if is_shift(p.attack["kind"]):
        return shift(job, log, data, model)
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
    # a kind that needs generators (dgn): with those of rule train_dgn
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


def shift(job, log, data, model):
    """The side sets of a shift kind, written as an attack writes its own (same files, same keys)."""
    p, w = job.params, job.wildcards
    entry = p.attack
    source = None
    if SHIFTS[entry["kind"]].reads_source:  # a natural shift: inputs of another dataset
        source = load_source(entry["source"])
        log.info("natural shift: %d source images of shape %s", len(source[0]), source[0].shape[1:])
    seed = derive_seed(p.seed, w.dataset, w.attack, "shift")
    try:
        sets = side_sets(entry, data, p.adv_train_size, derive_seed(p.seed, w.dataset, "adv_train_subset"), seed,
                         log, source)
    except ConfigError as err:  # name the key
        raise ConfigError(f"attacks.{w.attack}.{err}" if not str(err).startswith("adv_train_size") else
                          f"datasets.{w.dataset}.{err}") from None
    results = {}
    for part, x, y in (("train", sets.x_train, sets.y_train), ("val", sets.x_val, sets.y_val),
                       ("test", sets.x_test, sets.y_test)):
        wrong = predict_logits(model, x, p.batch_size_eval, p.device).argmax(axis=1) != y
        if SHIFTS[entry["kind"]].paired:  # the change a corruption made to each input
            clean = data["x_train"][sets.idx_train] if part == "train" else data[f"x_{part}"]
            norms = perturbation_norms(clean, x)
        else:  # no clean counterpart: no norms
            norms = {k: np.full(len(x), np.nan) for k in ("linf", "l2", "l1")}
        results[part] = AttackResult(x_adv=x, success=wrong, **norms)
    save_npz(job.output.adversarial,
             x_adv_train=sets.x_train, y_adv_train=sets.y_train, idx_adv_train=sets.idx_train,
             success_train=results["train"].success, x_adv_val=sets.x_val, y_adv_val=sets.y_val,
             success_val=results["val"].success, x_adv_test=sets.x_test, y_adv_test=sets.y_test,
             success_test=results["test"].success)
    acc = {part: accuracy(model, data[f"x_{part}"], data[f"y_{part}"], p.batch_size_eval, p.device)
           for part in ("val", "test")}
    acc_side = {part: float(1.0 - results[part].success.mean()) if len(results[part].success) else float("nan")
                for part in ("val", "test")}
    n_test, n_val = len(data["y_test"]), len(data["y_val"])
    summary = {
        "dataset": w.dataset, "rep": int(w.rep), "attack": w.attack, "settings": entry, "seed": p.seed,
        "job_seed": seed, "shift": entry["kind"], "adv_test_attack": entry["kind"], "shift_info": sets.info,
        # "success" of a shift: the original model misclassifies the input
        "adv_train": results["train"].summary(), "adv_test": results["test"].summary(),
        "adv_train_kept": int(len(sets.y_train)),
        "original_acc_test": acc["test"], "original_acc_adv_test": acc_side["test"],
        "original_acc_test_star": (acc["test"] * n_test + acc_side["test"] * len(sets.y_test))
        / (n_test + len(sets.y_test)),
        "adv_val": results["val"].summary(), "original_acc_val": acc["val"], "original_acc_adv_val": acc_side["val"],
        "original_acc_val_star": (acc["val"] * n_val + acc_side["val"] * len(sets.y_val)) / (n_val + len(sets.y_val)),
        **result_provenance(p.device),
    }
    save_json(job.output.summary, summary)
    log.info("%s (%s): original accuracy Test %.4f, shifted Test %.4f, shifted Val %.4f", w.attack, entry["kind"],
             acc["test"], acc_side["test"], acc_side["val"])


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
