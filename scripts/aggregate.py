"""Rule aggregate: Tables 3, 4, 5 and Figure 3 from the per-job results."""

from pathlib import Path

from guided_retraining import plots, tables
from guided_retraining.io import load_json


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
    log.info("aggregated %d retrained models, %d score files", len(records), len(scores))


if __name__ == "__main__":
    from guided_retraining.runner import standalone

    standalone(main)
