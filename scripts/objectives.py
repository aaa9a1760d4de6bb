"""Rule objectives: the three objectives of test selection (fault detection, performance estimation,
retraining guidance) for every metric, dataset, attack or shift and repetition, with the paired comparison
against random (guided_retraining.objectives); one table and one heat map per objective and dataset.

Fault detection and estimation read what the earlier jobs wrote: the original model's predicted classes
over Train* (the softmax activations job's ``pred``), the true labels (``y_train`` of the prepared data,
``y_adv_train`` of the attack's file) and each metric's order; retraining guidance reads the retraining
results at the budget points (aggregate.budgets)."""

from pathlib import Path

import numpy as np
import pandas as pd

from guided_retraining import objectives, plots, table_registry, tables
from guided_retraining.errors import ConfigError, DataError
from guided_retraining.io import load_json, load_npz
from guided_retraining.retraining import budget_size, is_budget, pool
from guided_retraining.table_files import shift_label

# the two pools an order is judged on: the scored set and its new inputs (the configurations whose pools they are)
POOLS = (("Train*", "C1"), ("Adv.Train", "C3"))


def main(job, log):
    p = job.params
    cases = [(d, a, rep) for d, a in p.grid for rep in p.reps]
    softmax, data, adversarial = (dict(zip(cases, job.input[k])) for k in ("softmax", "data", "adversarial"))
    order_files = dict(zip([(d, a, rep, m) for d, a, rep in cases for m in p.metrics], job.input.orders))
    rows = []
    for dataset, attack, rep in cases:
        mask, n_train = _faults(softmax[dataset, attack, rep], data[dataset, attack, rep],
                                adversarial[dataset, attack, rep])
        for metric in p.metrics:
            path = order_files[dataset, attack, rep, metric]
            order = load_npz(path, ["order"], only=True)["order"]
            if len(order) != len(mask) or not np.array_equal(np.sort(order), np.arange(len(mask))):
                raise DataError(f"{path}: not a permutation of the {len(mask)} inputs of Train*")
            for scope, configuration in POOLS:
                sub = pool(order, n_train, configuration)
                budgets = [(b, _size(b, len(sub), scope, dataset)) for b in p.budgets]
                keys = {"dataset": dataset, "attack": attack, "scope": scope, "metric": metric, "rep": rep}
                rows += objectives.order_rows(keys, sub, mask, budgets)
        log.info("%s/%s r%d: %d of %d inputs of Train* misclassified (%d of %d in Adv.Train)", dataset, attack, rep,
                 int(mask.sum()), len(mask), int(mask[n_train:].sum()), len(mask) - n_train)
    records = [load_json(f) for f in job.input.retrain]
    for r in records:
        if is_budget(r["point"]):
            rows.append({k: r[k] for k in ("dataset", "attack", "metric", "rep")} | {
                "scope": r["configuration"], "objective": "retraining", "endpoint": f"accuracy_{r['point']}",
                "budget": r["point"], "inputs": r["inputs_used"], "value": float(r["acc_test_star"]),
                "random_expected": float("nan"), "ideal": float("nan")})
    if not p.retraining_budgets:
        log.warning("retraining guidance: no rows, aggregate.budgets is empty (no retraining at fixed budgets)")
    table = objectives.objectives_table(pd.DataFrame(rows))
    out = Path(p.results)
    tables.write(table, out / "tables/objectives.csv", out / "tables/objectives.md",
                 table_registry.TABLES["objectives"].heading, p.source,
                 objectives.objectives_markdown(table), p.shifts)
    overview = objectives.overview(table)
    wide = objectives.overview_markdown(overview)  # one column per attack or shift: a shift's says so
    tables.write(overview, out / "tables/objectives_overview.csv", out / "tables/objectives_overview.md",
                 table_registry.TABLES["objectives_overview"].heading, p.source,
                 wide.rename(columns=lambda a: shift_label(a, p.shifts)), p.shifts)
    names = {"fault_detection": "fault detection", "estimation": "performance estimation (abs. error)",
             "retraining": "retraining guidance (Test* accuracy)"}
    for objective in objectives.OBJECTIVES:
        for dataset in dict.fromkeys(d for d, _ in p.grid):
            sub = table[(table["objective"] == objective) & (table["dataset"] == dataset)]
            # a shift's column says so: "noise2 (corruption)"
            sub = sub.assign(attack=sub["attack"].map(lambda a: shift_label(a, p.shifts)))
            paths = [out / f"figures/objectives_{objective}_{dataset}.{ext}" for ext in ("png", "pdf")]
            plots.objectives_heatmap(sub, f"{names[objective]}: {dataset}\npaired gain over random (mean over"
                                     f" {len(p.reps)} repetition(s); * Holm p < 0.05)", paths)
    log.info("objectives of %d metric(s) over %d dataset/attack pair(s) and %d repetition(s): %d rows",
             len(p.metrics), len(p.grid), len(p.reps), len(table))


def _size(point: str, total: int, scope: str, dataset: str) -> int:
    """The inputs of budget ``point`` over a pool of ``total`` (retraining.budget_size), its error naming our key."""
    try:
        return budget_size(point, total)
    except ConfigError:
        raise ConfigError(f"objectives.budgets: a budget of {point[1:]} inputs exceeds the {total} inputs of"
                          f" {scope} on dataset {dataset}; give a smaller count or a fraction") from None


def _faults(softmax_path, data_path, adversarial_path) -> tuple[np.ndarray, int]:
    """The original model's misclassified inputs of Train* (predicted class != true label) and n_train."""
    soft = load_npz(softmax_path, ["pred", "n_train"], only=True)
    y_train = load_npz(data_path, ["y_train"], only=True)["y_train"]
    y_adv = load_npz(adversarial_path, ["y_adv_train"], only=True)["y_adv_train"]
    n_train = int(soft["n_train"])
    if n_train != len(y_train) or len(soft["pred"]) != n_train + len(y_adv):
        raise DataError(f"{softmax_path}: predictions for {n_train} + {len(soft['pred']) - n_train} inputs, the labels"
                        f" of {data_path} and {adversarial_path} are for {len(y_train)} + {len(y_adv)}")
    return objectives.faults(soft["pred"], np.concatenate([y_train, y_adv])), n_train


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
