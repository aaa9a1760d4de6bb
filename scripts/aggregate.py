"""Rule aggregate: the tables declared for it (guided_retraining.table_registry: Tables 3, 4, 5, the retraining
time, the adversarial share, the cross-attack accuracies, the statistics over repetitions, and any table of
the config's plugins or extra_tables, loaded by guided_retraining.runner.execute), Figure 3, the paired
differences at fixed budgets, the paired-share heat maps, the score distributions and the adversarial share
figures from the per-job results."""

from pathlib import Path

from guided_retraining import plots, table_registry, tables
from guided_retraining.errors import DataError
from guided_retraining.io import load_json, load_npz


def main(job, log):
    p = job.params
    scores = [load_json(f) for f in job.input.scores]
    results = table_registry.StudyResults([load_json(f) for f in job.input.retrain],
                                          [load_json(f) for f in job.input.attacks], scores,
                                          p.select_on, p.include_original, p.budgets, p.grid)
    out = Path(p.results)
    # the model jobs the tables read (retraining, attacks): empty when all ran on the CPU (score jobs of
    # NumPy metrics run on the CPU on any machine, so they are left out)
    devices = tables.devices_note(results.records + results.attacks)
    source = f"{p.source}; {devices}" if devices else p.source
    if devices:
        log.warning("the tables pool jobs run on: %s", devices)
    words = results.words()
    # the rows whose new inputs are a distribution shift (attack.json's "shift": its kind): the Markdown says so
    shifts = {a["attack"]: a["shift"] for a in results.attacks if a.get("shift")}
    for table in table_registry.of_rule("aggregate"):
        frame, markdown = table.frames(results)
        tables.write(frame, out / f"tables/{table.name}.csv", out / f"tables/{table.name}.md",
                     table.heading.format(**words), source, markdown, shifts)
    _figures(results, p, job.input, out, words["chosen"], log)
    log.info("aggregated %d retrained models, %d score files", len(results.records), len(scores))


def _figures(results, p, files, out, chosen, log):
    """The figures per dataset and attack (table_registry.FIGURES)."""
    points, best, pairs, against = results.points, results.best, results.pairs, results.against_random
    # a shift's side inputs are "shifted", not "adversarial" (guided_retraining.shifts; attack.json's "shift")
    side = {a["attack"]: "shifted" if a.get("shift") else "adversarial" for a in results.attacks}

    def figure_paths(name, dataset, attack):
        return [out / f"figures/{name}_{dataset}_{attack}.{ext}" for ext in ("png", "pdf")]

    # input lists run over grid() x metrics in this order (workflow/rules/aggregate.smk)
    keys = [(d, a, m) for d, a in p.grid for m in p.metrics]
    score_files = dict(zip(keys, files.score_arrays))
    order_files = dict(zip(keys, files.orders))
    for dataset, attack in p.grid:
        sub = points[(points["dataset"] == dataset) & (points["attack"] == attack)]
        originals = [v["acc_test_star"] for (d, a, _), v in sorted(results.original.items())
                     if (d, a) == (dataset, attack)]
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
                                  f"Scores of Train*: {dataset}, {attack} (clean against {side[attack]})",
                                  figure_paths("scores", dataset, attack),
                                  self_reference=[s["metric"] for s in results.scores
                                                  if plots.clean_in_own_reference(s) and
                                                  (s["dataset"], s["attack"], s.get("rep", 1)) == (dataset, attack, 1)])
        share = tables.adversarial_share(sub[sub["rep"] == 1])  # as the score distributions: repetition 1
        overall = (total - n_train) / total if total else float("nan")
        plots.adversarial_share_figure(share, overall, f"{side[attack].capitalize()} share of the inputs used: {dataset},"
                                       f" {attack}",
                                       figure_paths("adversarial_share", dataset, attack))
        log.info("%s/%s: %d clean and %d adversarial inputs; adversarial share of the first point: %s",
                 dataset, attack, n_train, total - n_train,
                 ", ".join(f"{r.metric} {r.adversarial_share:.3f}" for r in share[share.point == 1].itertuples()))


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
