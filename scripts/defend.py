"""Rule defend: train a defended model (adversarial training or feature squeezing) on Train, watching the
validation split as the original model does (early stopping with ``train.patience``, as run 004)."""

from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.defences import AdversarialTraining, adversarial_fit, train_squeezed
from guided_retraining.io import result_provenance, save_json, save_state_dict
from guided_retraining.models import build_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import FitContext, TrainSettings, accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    seed = derive_seed(p.seed, w.dataset, "defence", w.defence)
    settings = TrainSettings.from_config(p.train)
    model = build_model(p.arch, data.shape, data.n_classes, seed=seed, init=settings.init)
    x, y = data["x_train"], data["y_train"]
    validation = (data["x_val"], data["y_val"]) if len(data["y_val"]) else None
    if w.defence == "adversarial_training":
        history = adversarial_fit(model, x, y, settings, seed, AdversarialTraining.from_config(p.settings),
                                  FitContext(p.device, log, "adversarial training"), validation=validation)
        classifier = model
    else:
        classifier = train_squeezed(model, x, y, settings, seed, size=p.settings["size"], device=p.device, log=log,
                                    validation=validation)
        history = classifier.history
    save_state_dict(job.output.model, model.cpu())  # the bare network; the filter is re-applied at evaluation
    save_json(job.output.summary, {
        "dataset": w.dataset, "rep": int(w.rep), "defence": w.defence, "settings": p.settings, "train": p.train, "seed": p.seed,
        "job_seed": seed, **history.as_dict(), "acc_test": accuracy(classifier, data["x_test"], data["y_test"]),
        **result_provenance(p.device),
    })


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
