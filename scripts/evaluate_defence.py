"""Rules evaluate_defence (white box: the attack made against the defended model) and evaluate_transfer
(the inputs made against the undefended model): a defended model's accuracy and loss on attacked Test."""

from guided_retraining.attacks import make_attack
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.defences import MedianFilterModel
from guided_retraining.io import load_npz, result_provenance, save_json
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import accuracy_and_loss


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    if p.squeeze:  # feature squeezing: the median filter sits in front of the classifier, attacks see it too
        model = MedianFilterModel(model, p.squeeze)
    x, y = data["x_test"], data["y_test"]
    protocol = "transfer" if "transfer" in job.input.keys() else "white_box"
    summary = {}
    if protocol == "transfer":
        x = load_npz(job.input.transfer, ["x_adv", "y"])["x_adv"]
    elif p.attack["kind"] != "none":
        settings = {k: v for k, v in p.attack.items() if k != "kind"}
        attack = make_attack(p.attack["kind"], seed=derive_seed(p.seed, w.dataset, w.defence, w.eval_attack),
                             **settings)
        result = attack.run(model, x, y, p.batch_size_eval, p.device, log, f"{w.eval_attack} against {w.defence}")
        x, summary = result.x_adv, result.summary()
    acc, loss = accuracy_and_loss(model, x, y, p.batch_size_eval, p.device)
    log.info("%s under %s (%s): accuracy %.4f, loss %.4f", w.defence, w.eval_attack, protocol, acc, loss)
    save_json(job.output.result, {
        "dataset": w.dataset, "rep": int(w.rep), "defence": w.defence, "attack": w.eval_attack,
        "protocol": protocol, "settings": p.attack, "accuracy": acc, "loss": loss, "attack_summary": summary,
        "seed": p.seed, **result_provenance(p.device),
    })


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
