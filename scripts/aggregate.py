"""Rule aggregate: Tables 3, 4, 5, the retraining time, the statistics over repetitions, the adversarial share
table, Figure 3, the paired differences at fixed budgets, the paired-share heat maps, the score distributions and
the adversarial share figures from the per-job results."""

from pathlib import Path

import pandas as pd

from guided_retraining import plots, statistics, tables
from guided_retraining.errors import DataError
from guided_retraining.io import load_json, load_npz


def main(job, log):
    p = job.params
    records = [load_json(f) for f in job.input.retrain]
    attacks = [load_json(f) for f in job.input.attacks]
    scores = [load_json(f) for f in job.input.scores]
    original = {(a["dataset"], a["attack"], a["rep"]): {"acc_test_star": a["original_acc_test_star"],
                                                       "acc_val_star": a["original_acc_val_star"]} for a in attacks}
    points = tables.points_frame(records)
    out = Path(p.results)
    # the model jobs the tables read (retraining, attacks): empty when all ran on the CPU (score jobs of
    # NumPy metrics run on the CPU on any machine, so they are left out)
    devices = tables.devices_note(records + attacks)
    source = f"{p.source}; {devices}" if devices else p.source
    if devices:
        log.warning("the tables pool jobs run on: %s", devices)

    def write(name, frame, title, markdown=None):
        tables.write(frame, out / f"tables/{name}.csv", out / f"tables/{name}.md", title, source, markdown)

    def figure_paths(name, dataset, attack):
        return [out / f"figures/{name}_{dataset}_{attack}.{ext}" for ext in ("png", "pdf")]

    t3 = tables.table3(points, original, p.include_original, p.select_on)
    chosen = {"validation": "chosen on Val* = Val + Adv.Val", "test": "chosen on Test* (the study's way)"}[p.select_on]
    write("table3", t3, f"Table 3: accuracy on Test* at the best point ({chosen}) and inputs used (u/T)",
          tables.table3_markdown(t3))
    write("table4", tables.table4(points, t3), f"Table 4: C2 at C3's total input count against C3 at its best point"
          f" ({chosen})")
    write("cross_attack", tables.cross_attack(records, attacks, t3),
          f"Accuracy on the Adv.Test of every attack (model x attack; retrained models at the best point, {chosen})")
    write("table5", tables.table5(scores), "Table 5: metric time over the scored set Train*, charged only what it"
          " reads (seconds: the metric; traces_seconds / softmax_seconds: the forward passes it reads, over Train*;"
          " total_seconds: all)")

    write("retraining_time", tables.retraining_time(records), "Retraining time: wall and CPU seconds of retraining"
          " per configuration and metric, summed over the data points, mean over the repetitions")

    best = tables.best_points(points, p.select_on)
    values = statistics.endpoint_values(points, best)
    missing = sorted(set(f"budget_{b}" for b in p.budgets) - set(values["endpoint"]))
    if missing:
        raise DataError(f"no retraining results for the budget endpoints {', '.join(missing)} of aggregate.budgets")
    summary = statistics.summary(values)
    pairs = statistics.pairs(values)
    stats = statistics.statistics_table(summary, pairs)
    endpoints = (f"endpoints: best = Test* accuracy at the best point ({chosen}), auc = normalised AUC,"
                 " budget_<f fraction of T | n count> = Test* accuracy at that fixed budget")
    write("statistics", stats, f"Statistics over repetitions ({endpoints}): mean, sd, 95% t-interval; against random"
          " (Holm over the comparisons with random per endpoint): n pairs, n_nonzero, mean paired difference with"
          " its 95% t-interval, paired share (ties half), exact Wilcoxon signed-rank p (zeros dropped, average"
          " ranks), p_holm, unpaired A12, repetitions for 80% power", statistics.statistics_markdown(stats))
    write("statistics_pairs", pairs, f"Every metric against every other ({endpoints}): the paired comparison,"
          " Holm-corrected over every pair within dataset, attack, configuration and endpoint",
          statistics.pairs_markdown(pairs))
    against = pairs[(pairs["other"] == "random") & pairs["endpoint"].str.startswith("budget_")].merge(
        summary[statistics.ENDPOINT_GROUP + ["metric", "inputs_used_mean"]], on=statistics.ENDPOINT_GROUP + ["metric"])

    # input lists run over grid() x metrics in this order (workflow/rules/aggregate.smk)
    keys = [(d, a, m) for d, a in p.grid for m in p.metrics]
    score_files = dict(zip(keys, job.input.score_arrays))
    order_files = dict(zip(keys, job.input.orders))
    shares = []
    for dataset, attack in p.grid:
        sub = points[(points["dataset"] == dataset) & (points["attack"] == attack)]
        originals = [v["acc_test_star"] for (d, a, _), v in sorted(original.items()) if (d, a) == (dataset, attack)]
        plots.figure3(sub, originals,
                      f"Figure 3: {dataset}, {attack} (accuracy on Test*; stars: best points {chosen})",
                      figure_paths("figure3", dataset, attack),
                      best[(best["dataset"] == dataset) & (best["attack"] == attack)])
        plots.budget_differences(against[(against["dataset"] == dataset) & (against["attack"] == attack)],
                                 f"Paired difference to random at fixed budgets (mean, 95% CI): {dataset}, {attack}",
                                 figure_paths("budgets", dataset, attack))
        plots.paired_share_heatmap(
            pairs[(pairs["dataset"] == dataset) & (pairs["attack"] == attack) & (pairs["endpoint"] == "best")],
            f"Paired share, Test* accuracy at the best point ({chosen}): {dataset}, {attack}",
            figure_paths("paired_share", dataset, attack))
        arrays = {m: load_npz(score_files[dataset, attack, m], ["scores", "n_train"]) for m in p.metrics}
        orders = {m: load_npz(order_files[dataset, attack, m], ["order", "n_train"]) for m in p.metrics}
        n_train = _same_n_train(arrays, orders, dataset, attack)
        total = len(next(iter(orders.values()))["order"])
        plots.score_distributions({m: a["scores"] for m, a in arrays.items()}, n_train,
                                  f"Scores of Train*: {dataset}, {attack} (clean against adversarial)",
                                  figure_paths("scores", dataset, attack),
                                  self_reference=[s["metric"] for s in scores if plots.clean_in_own_reference(s) and
                                                  (s["dataset"], s["attack"], s.get("rep", 1)) == (dataset, attack, 1)])
        share = plots.adversarial_share(sub[sub["rep"] == 1])  # as the score distributions: repetition 1
        overall = (total - n_train) / total if total else float("nan")
        plots.adversarial_share_figure(share, overall, f"Adversarial share of the inputs used: {dataset}, {attack}",
                                       figure_paths("adversarial_share", dataset, attack))
        shares.append(share.assign(dataset=dataset, attack=attack))
        log.info("%s/%s: %d clean and %d adversarial inputs; adversarial share of the first point: %s",
                 dataset, attack, n_train, total - n_train,
                 ", ".join(f"{r.metric} {r.adversarial_share:.3f}" for r in share[share.point == 1].itertuples()))
    columns = ["dataset", "attack", "metric", "point", "inputs", "adversarial_share"]
    frame = pd.concat(shares, ignore_index=True)[columns] if shares else pd.DataFrame(columns=columns)
    write("adversarial_share", frame, "Adversarial share of the inputs each data point of C1/C2 uses")
    log.info("aggregated %d retrained models, %d score files", len(records), len(scores))


def _same_n_train(arrays, orders, dataset, attack) -> int:
    """The clean-input count shared by every score and order file of one dataset/attack."""
    counts = {int(a["n_train"]) for a in list(arrays.values()) + list(orders.values())}
    sizes = {len(a["scores"]) for a in arrays.values()} | {len(o["order"]) for o in orders.values()}
    if len(counts) != 1 or len(sizes) != 1:
        raise DataError(f"{dataset}/{attack}: score and order files disagree on Train* (n_train {sorted(counts)},"
                         f" sizes {sorted(sizes)})")
    return counts.pop()


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
