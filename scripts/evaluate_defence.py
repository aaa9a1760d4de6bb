"""Rule evaluate_defence: accuracy of a defended model on Test under an attack made against it."""

from guided_retraining.attacks import make_attack
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.defences import MedianFilterModel
from guided_retraining.io import provenance, save_json
from guided_retraining.models import load_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import accuracy


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    if p.squeeze:  # feature squeezing: the median filter sits in front of the classifier, attacks see it too
        model = MedianFilterModel(model, p.squeeze)
    x, y = data["x_test"], data["y_test"]
    kind = p.attack["kind"]
    summary = {}
    if kind != "none":
        settings = {k: v for k, v in p.attack.items() if k != "kind"}
        attack = make_attack(kind, seed=derive_seed(p.seed, w.dataset, w.defence, w.eval_attack), **settings)
        result = attack.run(model, x, y, p.batch_size_eval, p.device, log, f"{w.eval_attack} against {w.defence}")
        x, summary = result.x_adv, result.summary()
    acc = accuracy(model, x, y, p.batch_size_eval, p.device)
    log.info("%s under %s: accuracy %.4f", w.defence, w.eval_attack, acc)
    save_json(job.output.result, {
        "dataset": w.dataset, "rep": int(w.rep), "defence": w.defence, "attack": w.eval_attack, "settings": p.attack, "accuracy": acc,
        "attack_summary": summary, "seed": p.seed, "versions": provenance(),
    })


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
