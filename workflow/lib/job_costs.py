"""Cluster resources of each kind of job the rules run (the formula: :mod:`guided_retraining.resources`).

A rule asks ``resources_of(kind)`` (workflow/rules/common.smk) for one of these kinds; rules that do the
same work on the same data reuse a kind (a defence that trains asks ``train_original``'s). Override any
estimate per rule in a profile's ``set-resources``.
"""

from guided_retraining.resources import JobCost

# kind -> JobCost(base MB, MB per MB of data, base minutes, minutes per MB of data[, trains: minutes x epochs / 10])
JOB_COSTS = {
    "prepare": JobCost(1000, 6.0, 10, 0.05),
    "train_original": JobCost(1500, 4.0, 30, 0.5, trains=True),
    "attack": JobCost(1500, 4.0, 20, 0.2),
    "activations": JobCost(1500, 4.0, 10, 0.05),
    "score": JobCost(2000, 2.0, 10, 0.05),
    "order": JobCost(500, 0.0, 5, 0.0),
    "retrain": JobCost(1500, 4.0, 20, 0.5, trains=True),
    "aggregate": JobCost(1000, 0.0, 10, 0.0),
}
