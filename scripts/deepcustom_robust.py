"""Rule deepcustom_robust: a model adversarially trained on one grid attack (Goodfellow's mix), seed 003's matrix."""

from guided_retraining.attacks import attack_from_config
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.defences import AdversarialTraining, adversarial_train
from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, result_provenance, save_json, save_state_dict
from guided_retraining.models import build_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import FitContext, TrainSettings, accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    seed = derive_seed(p.seed, w.dataset, "deepcustom_robust", w.attack)
    crafter, x_adv = None, None
    if p.adversarial_data == "stored":  # the seed's: adversarial data made once against the original model
        stored = load_npz(job.input.stored[0])
        x_adv = stored["x_adv_train"]
        if len(stored["y_train"]) != len(data["y_train"]) or (stored["y_train"] != data["y_train"]).any():
            raise DataError(f"{job.input.stored[0]}: its labels are not those of Train in {job.input.data}")
    else:
        crafter = attack_from_config(p.attack, seed, job.input.generators, data.shape, data.n_classes)
    model = build_model(p.arch, data.shape, data.n_classes, seed=seed)
    losses = adversarial_train(model, data["x_train"], data["y_train"], TrainSettings.from_config(p.train), seed,
                               AdversarialTraining(alpha_mix=p.alpha_mix),
                               FitContext(p.device, log, f"adversarial training on {w.attack}"),
                               crafter=crafter, x_adv=x_adv,
                               validation=(data["x_val"], data["y_val"]) if len(data["y_val"]) else None)
    save_state_dict(job.output.model, model.cpu())
    acc = accuracy(model, data["x_test"], data["y_test"])
    save_json(job.output.summary, {
        "dataset": w.dataset, "attack": w.attack, "settings": p.attack, "train": p.train, "alpha_mix": p.alpha_mix,
        "adversarial_data": p.adversarial_data,
        "seed": p.seed, "job_seed": seed, "losses": losses, "acc_test": acc, **result_provenance(p.device),
    })
    log.info("robust to %s: clean accuracy on Test %.4f", w.attack, acc)


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
