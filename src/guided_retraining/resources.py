"""Cluster resources of each rule, estimated from the dataset's size in config.

Snakemake asks SLURM for ``mem_mb`` and ``runtime`` (minutes) per job. Both scale with
the number and size of the images a job holds: ``data_mb`` = images x pixels x 4 bytes
(float32), for the whole prepared dataset (train, validation, test). The estimates are
generous on purpose (a job killed for memory costs more than an idle reservation);
override any of them per rule in a profile's ``set-resources``.
"""

from __future__ import annotations

# A loader whose size is only known from its data (a user's folder) is costed as this many MNIST-sized images.
UNKNOWN_SIZE = (70_000, (1, 28, 28))

# Per rule: (base MB, MB per MB of data, base minutes, minutes per MB of data per epoch-ish unit)
_RULES = {
    "prepare": (1000, 6.0, 10, 0.05),
    "train_original": (1500, 4.0, 30, 0.5),
    "attack": (1500, 4.0, 20, 0.2),
    "activations": (1500, 4.0, 10, 0.05),
    "score": (2000, 2.0, 10, 0.05),
    "order": (500, 0.0, 5, 0.0),
    "retrain": (1500, 4.0, 20, 0.5),
    "aggregate": (1000, 0.0, 10, 0.0),
}


def data_mb(loader: str, subset: int | None = None, options: dict | None = None) -> float:
    """MB of float32 images of the prepared dataset (the loaders' own counts: ``Loader.size``)."""
    from .datasets import LOADERS

    size = LOADERS[loader].size if loader in LOADERS else None
    if size is not None:
        n, (c, h, w) = size.train + size.test, size.loaded_shape(options)
    else:
        n, (c, h, w) = UNKNOWN_SIZE
    if subset:
        n = min(n, int(subset))
    return n * c * h * w * 4 / 2**20


def estimate(rule: str, dataset_config: dict | None) -> dict[str, int]:
    """``{"mem_mb": ..., "runtime": ...}`` for one job of ``rule`` on this dataset (``None``: a job
    over all datasets' small results, which needs only the rule's base resources)."""
    base_mb, per_mb, base_min, min_per_mb = _RULES[rule]
    if dataset_config is None:
        return {"mem_mb": base_mb, "runtime": base_min}
    mb = data_mb(dataset_config["loader"], dataset_config.get("split", {}).get("subset"),
                 dataset_config.get("options"))
    epochs = dataset_config.get("train", {}).get("epochs", 10)
    scale = epochs / 10 if rule in ("train_original", "retrain") else 1.0
    return {"mem_mb": int(base_mb + per_mb * mb), "runtime": int(base_min + min_per_mb * mb * scale)}
