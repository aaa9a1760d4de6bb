"""Cluster resources of each rule, estimated from the dataset's size in config.

Snakemake asks SLURM for ``mem_mb`` and ``runtime`` (minutes) per job. Both scale with
the number and size of the images a job holds: ``data_mb`` = images x pixels x 4 bytes
(float32), for the whole prepared dataset (train, validation, test). The estimates are
generous on purpose (a job killed for memory costs more than an idle reservation);
override any of them per rule in a profile's ``set-resources``. The coefficients of each kind of
job are the workflow's (:class:`JobCost`, declared beside the rules); the formula is here.
"""

from __future__ import annotations

from dataclasses import dataclass

# A loader whose size is only known from its data (a user's folder) is costed as this many MNIST-sized images.
UNKNOWN_SIZE = (70_000, (1, 28, 28))


@dataclass(frozen=True)
class JobCost:
    """How one kind of job's resources grow with the data: ``base_mb + mb_per_data_mb * data_mb`` MB of
    memory and ``base_minutes + minutes_per_data_mb * data_mb * scale`` minutes, where ``scale`` is
    ``epochs / 10`` for a job that trains (``trains``) and 1 otherwise. The workflow declares one per
    kind of job (``JOB_COSTS`` in workflow/rules/common.smk); this module knows no rule names."""

    base_mb: float
    mb_per_data_mb: float
    base_minutes: float
    minutes_per_data_mb: float
    trains: bool = False


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


def estimate(cost: JobCost, dataset_config: dict | None) -> dict[str, int]:
    """``{"mem_mb": ..., "runtime": ...}`` for one job of this cost on this dataset (``None``: a job
    over all datasets' small results, which needs only the base resources)."""
    if dataset_config is None:
        return {"mem_mb": int(cost.base_mb), "runtime": int(cost.base_minutes)}
    mb = data_mb(dataset_config["loader"], dataset_config.get("split", {}).get("subset"),
                 dataset_config.get("options"))
    epochs = dataset_config.get("train", {}).get("epochs", 10)
    scale = epochs / 10 if cost.trains else 1.0
    return {"mem_mb": int(cost.base_mb + cost.mb_per_data_mb * mb),
            "runtime": int(cost.base_minutes + cost.minutes_per_data_mb * mb * scale)}
