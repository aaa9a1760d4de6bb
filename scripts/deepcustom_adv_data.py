"""Rule deepcustom_adv_data: one grid attack on all of Train against the original model, stored for the robust
model of seed 003's matrix (the seed trains its FGSM-, PGD- and DGN-robust models on such stored data)."""

from guided_retraining.attacks import attack_from_config
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.io import save_npz
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    seed = derive_seed(p.seed, w.dataset, w.attack, "deepcustom_adv_data")
    attack = attack_from_config(p.attack, seed, job.input.generators, data.shape, data.n_classes)
    result = attack.run(model, data["x_train"], data["y_train"], p.batch_size_eval, p.device, log, f"{w.attack} on Train")
    save_npz(job.output.adversarial, x_adv_train=result.x_adv, y_train=data["y_train"], success=result.success)
    log.info("%s on all %d training inputs against the original model: success rate %.3f", w.attack,
             len(data["y_train"]), float(result.success.mean()))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
