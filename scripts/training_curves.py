"""Rule training_curves: the training graphs (loss and validation accuracy per epoch) of the original
model and the defended models, one figure per dataset, from their training JSON."""

from pathlib import Path

from guided_retraining import plots
from guided_retraining.io import load_json


def main(job, log):
    p = job.params
    out = Path(p.results)
    files = iter(job.input)  # in the rule's order: per dataset, its models in params.models' order
    for dataset, models in p.models.items():
        histories = {name: load_json(next(files)) for name in models}
        plots.training_curves(histories, f"Training: {dataset} (repetition 1)",
                              [out / f"figures/training_{dataset}.{ext}" for ext in ("png", "pdf")])
        log.info("%s: %s", dataset, ", ".join(f"{name} {len(h.get('losses') or [])} epochs"
                                                for name, h in histories.items()))


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
