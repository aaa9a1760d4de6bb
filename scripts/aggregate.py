"""Rule aggregate: Tables 3, 4, 5, the adversarial share table, Figure 3, the score
distributions and the adversarial share figures from the per-job results."""

from pathlib import Path

import pandas as pd

from guided_retraining import plots, tables
from guided_retraining.io import load_json, load_npz


def main(job, log):
    p = job.params
    records = [load_json(f) for f in job.input.retrain]
    attacks = [load_json(f) for f in job.input.attacks]
    scores = [load_json(f) for f in job.input.scores]
    original = {(a["dataset"], a["attack"]): a["original_acc_test_star"] for a in attacks}
    points = tables.points_frame(records)
    out = Path(p.results)
    t3 = tables.table3(points, original, p.include_original)
    tables.write(t3, out / "tables/table3.csv", out / "tables/table3.md",
                 "Table 3: best accuracy on Test* and inputs used (u/T)", p.source, tables.table3_markdown(t3))
    tables.write(tables.table4(points), out / "tables/table4.csv", out / "tables/table4.md",
                 "Table 4: C2 at C3's input count against C3", p.source)
    tables.write(tables.cross_attack(records, attacks, t3), out / "tables/cross_attack.csv",
                 out / "tables/cross_attack.md", "Accuracy on the Adv.Test of every attack (model x attack)", p.source)
    tables.write(tables.table5(scores), out / "tables/table5.csv", out / "tables/table5.md",
                 "Table 5: metric wall time over the scored set", p.source)
    for dataset, attack in p.grid:
        sub = points[(points["dataset"] == dataset) & (points["attack"] == attack)]
        plots.figure3(sub, original[(dataset, attack)], f"Figure 3: {dataset}, {attack} (accuracy on Test*)",
                      [out / f"figures/figure3_{dataset}_{attack}.{ext}" for ext in ("png", "pdf")])

    # input lists run over grid() x metrics in this order (workflow/rules/aggregate.smk)
    keys = [(d, a, m) for d, a in p.grid for m in p.metrics]
    if not len(keys) == len(job.input.score_arrays) == len(job.input.orders):
        raise ValueError(f"expected {len(keys)} score and order files, got {len(job.input.score_arrays)}"
                         f" and {len(job.input.orders)}")
    score_files = dict(zip(keys, job.input.score_arrays))
    order_files = dict(zip(keys, job.input.orders))
    shares = []
    for dataset, attack in p.grid:
        arrays = {m: load_npz(score_files[dataset, attack, m], ["scores", "n_train"]) for m in p.metrics}
        orders = {m: load_npz(order_files[dataset, attack, m], ["order", "n_train"]) for m in p.metrics}
        n_train = _same_n_train(arrays, orders, dataset, attack)
        total = len(next(iter(orders.values()))["order"])
        plots.score_distributions({m: a["scores"] for m, a in arrays.items()}, n_train,
                                  f"Scores of Train*: {dataset}, {attack} (clean against adversarial)",
                                  [out / f"figures/scores_{dataset}_{attack}.{ext}" for ext in ("png", "pdf")])
        share = plots.adversarial_share({m: o["order"] for m, o in orders.items()}, n_train, p.data_points)
        overall = (total - n_train) / total if total else float("nan")
        plots.adversarial_share_figure(share, overall, f"Adversarial share of the inputs used: {dataset}, {attack}",
                                       [out / f"figures/adversarial_share_{dataset}_{attack}.{ext}"
                                        for ext in ("png", "pdf")])
        shares.append(share.assign(dataset=dataset, attack=attack))
        log.info("%s/%s: %d clean and %d adversarial inputs; adversarial share of the first point: %s",
                 dataset, attack, n_train, total - n_train,
                 ", ".join(f"{r.metric} {r.adversarial_share:.3f}" for r in share[share.point == 1].itertuples()))
    columns = ["dataset", "attack", "metric", "point", "inputs", "adversarial_share"]
    frame = pd.concat(shares, ignore_index=True)[columns] if shares else pd.DataFrame(columns=columns)
    tables.write(frame, out / "tables/adversarial_share.csv", out / "tables/adversarial_share.md",
                 "Adversarial share of the inputs each data point of C1/C2 uses", p.source)
    log.info("aggregated %d retrained models, %d score files", len(records), len(scores))


def _same_n_train(arrays, orders, dataset, attack) -> int:
    """The clean-input count shared by every score and order file of one dataset/attack."""
    counts = {int(a["n_train"]) for a in list(arrays.values()) + list(orders.values())}
    sizes = {len(a["scores"]) for a in arrays.values()} | {len(o["order"]) for o in orders.values()}
    if len(counts) != 1 or len(sizes) != 1:
        raise ValueError(f"{dataset}/{attack}: score and order files disagree on Train* (n_train {sorted(counts)},"
                         f" sizes {sorted(sizes)})")
    return counts.pop()


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
