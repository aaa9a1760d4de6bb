"""Rule prepare: load a dataset and split it into train / validation / test arrays."""

import numpy as np

from guided_retraining import datasets
from guided_retraining.datasets.split import subsample
from guided_retraining.io import result_provenance, save_json, save_npz


def main(job, log):
    p = job.params
    raw = datasets.load(p.loader, p.root, download=p.download, **p.options)
    log.info("loaded %s: %d train, %s test images of shape %s", p.loader, len(raw.x_train),
             "no" if raw.x_test is None else len(raw.x_test), raw.x_train.shape[1:])
    split = dict(p.split)
    raw = subsample(raw, split.pop("subset", None), p.seed)
    parts = datasets.split(raw, **split, seed=p.seed)
    for name in ("train", "val", "test"):
        datasets.check_images(parts[f"x_{name}"], f"{p.loader} {name} split")
    save_npz(job.output.data, **parts)
    summary = {
        "dataset": job.wildcards.dataset, "loader": p.loader, "root": p.root, "split": p.split, "seed": p.seed,
        "n_classes": raw.n_classes, "classes": raw.classes, "shape": list(raw.x_train.shape[1:]),
        "counts": {name: int(len(parts[f"y_{name}"])) for name in ("train", "val", "test")},
        "class_counts": {name: np.bincount(parts[f"y_{name}"], minlength=raw.n_classes).tolist()
                         for name in ("train", "val", "test")},
        **result_provenance("cpu"),
    }
    save_json(job.output.summary, summary)
    log.info("split: %s", summary["counts"])


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
