"""Rule train_original: train the original model on Train, watching validation accuracy, or load the
user's weights (``datasets.NAME.original.weights``) and evaluate them."""

from guided_retraining.baseline import check_original_learned, linear_baseline
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import load_state_dict, result_provenance, save_json, save_state_dict
from guided_retraining.models import build_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import FitContext, TrainSettings, accuracy, fit


def main(job, log):
    p = job.params
    data = load_prepared(job.input.data)
    n_classes = data.n_classes
    seed = derive_seed(p.seed, job.wildcards.dataset, "original")
    settings = TrainSettings.from_config(p.train)
    model = build_model(p.arch, data.shape, n_classes, seed=seed, init=settings.init)
    weights = p.original.get("weights")
    history = {}
    if weights:
        load_state_dict(job.input.weights, model)
        log.info("original model: the given weights %s (not trained)", weights)
    else:
        validation = (data["x_val"], data["y_val"]) if len(data["y_val"]) else None
        history = fit(model, data["x_train"], data["y_train"], settings, seed,
                      FitContext(p.device, log, "train original"), validation=validation,
                      batch_size_eval=p.batch_size_eval).as_dict()
    acc = {f"acc_{part}": accuracy(model, data[f"x_{part}"], data[f"y_{part}"], p.batch_size_eval, p.device)
           for part in ("train", "val", "test")}
    log.info("original model: %s", acc)
    baseline = linear_baseline(data["x_train"], data["y_train"], data["x_val"], data["y_val"],
                               derive_seed(p.seed, job.wildcards.dataset, "linear_baseline"))
    log.info("linear baseline (logistic regression on the pixels of %d training inputs): validation accuracy %.4f",
             baseline["n_train"], baseline["acc_val"])
    guard = check_original_learned(acc["acc_val"], data["y_train"], data["y_val"], baseline["acc_val"],
                                   job.wildcards.dataset, p.allow_chance, log)
    save_state_dict(job.output.model, model.cpu())
    save_json(job.output.summary, {
        "dataset": job.wildcards.dataset, "rep": int(job.wildcards.rep), "arch": p.arch, "n_classes": n_classes,
        "train": p.train, "weights": weights, "seed": p.seed, "job_seed": seed, **history, **acc,
        **guard, "linear_baseline": baseline, **result_provenance(p.device),
    })


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
