"""Rule train_original: train the original model on Train."""

from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import provenance, save_json, save_state_dict
from guided_retraining.models import build_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import TrainSettings, accuracy, train


def main(job, log):
    p = job.params
    data = load_prepared(job.input.data)
    n_classes = data.n_classes
    seed = derive_seed(p.seed, job.wildcards.dataset, "original")
    model = build_model(p.arch, data.shape, n_classes, seed=seed)
    settings = TrainSettings.from_config(p.train)
    losses = train(model, data["x_train"], data["y_train"], settings, seed, p.device, log, "train original")
    acc = {f"acc_{part}": accuracy(model, data[f"x_{part}"], data[f"y_{part}"], p.batch_size_eval, p.device)
           for part in ("train", "val", "test")}
    log.info("original model: %s", acc)
    save_state_dict(job.output.model, model.cpu())
    save_json(job.output.summary, {
        "dataset": job.wildcards.dataset, "rep": int(job.wildcards.rep), "arch": p.arch, "n_classes": n_classes, "train": p.train,
        "seed": p.seed, "job_seed": seed, "losses": losses, **acc, "versions": provenance(),
    })


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
