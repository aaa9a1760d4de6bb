"""Rule defend_guided: rebuild C2's best model (best metric and data point on Val* or Test*, aggregate.select_on)
and save it.

Retraining uses the same seeds as the retrain job of that point, so this is the very model
whose accuracy Table 3 reports.
"""

from guided_retraining.datasets.prepared import load_adversarial, load_order, load_prepared
from guided_retraining.io import load_json, result_provenance, save_json, save_state_dict
from guided_retraining.retraining import RetrainJob, retrain
from guided_retraining.tables import selection_column
from guided_retraining.training import TrainSettings


def main(job, log):
    p, w = job.params, job.wildcards
    results = [load_json(f) for f in job.input.results]
    column = selection_column(p.select_on)
    best = max(results, key=lambda r: (r[column], -r["inputs_used"]))
    log.info("best C2 model on %s: %s at %s (%d inputs), Test* %.4f", column, best["metric"], best["point"],
             best["inputs_used"], best["acc_test_star"])
    data = load_prepared(job.input.data)
    adv = load_adversarial(job.input.adversarial, data)
    order = load_order(job.input.orders[p.metrics.index(best["metric"])], data, adv)
    point = RetrainJob(w.dataset, p.attack, "C2", best["point"], p.data_points, p.step, p.seed)
    model, used, _, seeds = retrain(data, adv, order, point, TrainSettings.from_config(p.train),
                                    original_weights=job.input.model, arch=p.arch, device=p.device, log=log)
    save_state_dict(job.output.model, model.cpu())
    save_json(job.output.summary, {
        "dataset": w.dataset, "rep": int(w.rep), "defence": "guided", "attack": p.attack, "metric": best["metric"],
        "point": best["point"], "inputs_used": int(len(used)), "acc_test_star": best["acc_test_star"],
        "selected_on": p.select_on,
        "seeds": seeds, "seed": p.seed, **result_provenance(p.device),
    })


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
