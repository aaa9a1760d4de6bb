"""Tables 3, 4 and 5 from hand-made results."""

import json

import pandas as pd

from guided_retraining import tables


def record(configuration, metric, point, used, total, acc, val=None):
    return {"dataset": "d", "attack": "a", "configuration": configuration, "metric": metric, "point": point,
            "inputs_used": used, "inputs_total": total, "acc_test_star": acc, "acc_test": acc, "acc_adv_test": acc,
            "acc_val_star": acc if val is None else val, "adversarial_used": 0}


def original(test_star, val_star=None):
    return {("d", "a", 1): {"acc_test_star": test_star, "acc_val_star": test_star if val_star is None else val_star}}


RECORDS = [
    record("C2", "dsa", "p1", 50, 100, 0.80), record("C2", "dsa", "p2", 100, 100, 0.80),
    record("C2", "dsa", "atc3", 20, 100, 0.70),
    record("C2", "random", "p1", 50, 100, 0.60), record("C2", "random", "p2", 100, 100, 0.75),
    record("C2", "random", "atc3", 20, 100, 0.65),
    record("C3", "dsa", "p1", 10, 20, 0.72), record("C3", "dsa", "p2", 20, 20, 0.68),
    record("C3", "random", "p1", 10, 20, 0.50), record("C3", "random", "p2", 20, 20, 0.55),
]


def test_table3_best_point_ties_to_fewer_inputs():
    t3 = tables.table3(tables.points_frame(RECORDS), original(0.7))
    rows = {(r.configuration, r.metric): r for r in t3.itertuples()}
    assert (rows["C2", "dsa"].best_acc, rows["C2", "dsa"].inputs_used, rows["C2", "dsa"].inputs_total) == (0.8, 50, 100)
    assert rows["C2", "dsa"].utilisation == 0.5
    assert (rows["C2", "random"].best_acc, rows["C2", "random"].inputs_used) == (0.75, 100)
    assert (rows["C3", "dsa"].best_acc, rows["C3", "dsa"].inputs_used) == (0.72, 10)
    assert len(t3) == 4  # the atc3 points do not compete


def test_table3_can_let_the_original_compete():
    t3 = tables.table3(tables.points_frame(RECORDS), original(0.74), include_original=True)
    row = t3[(t3.configuration == "C3") & (t3.metric == "random")].iloc[0]
    assert (row.best_acc, row.inputs_used) == (0.74, 0)


def test_table4_takes_c2_at_c3_total_and_c3_at_its_best_point():
    points = tables.points_frame(RECORDS)
    t4 = tables.table4(points, tables.table3(points, original(0.7)))
    assert t4.to_dict("records") == [
        {"dataset": "d", "attack": "a", "rep": 1, "metric": "dsa", "inputs_C2": 20, "acc_C2": 0.70, "inputs_C3": 10,
         "acc_C3": 0.72, "difference": 0.70 - 0.72},
        {"dataset": "d", "attack": "a", "rep": 1, "metric": "random", "inputs_C2": 20, "acc_C2": 0.65,
         "inputs_C3": 20, "acc_C3": 0.55, "difference": 0.65 - 0.55},
    ]


def test_table5_formats_wall_time_and_keeps_cpu_time():
    t5 = tables.table5([{"dataset": "d", "attack": "a", "metric": "nns", "n": 10, "seconds": 3725.4,
                         "cpu_seconds": 3601.5, "input_seconds": {"softmax": 2.0, "dense2": 3.0},
                         "input_cpu_seconds": {"softmax": 1.5, "dense2": 2.5}}])
    row = t5.iloc[0]
    assert row["hh:mm:ss"] == "01:02:10"  # metric and what it reads: 3725.4 + 3.0 + 2.0
    assert row["cpu_seconds"] == 3601.5 and row["traces_seconds"] == 3.0 and row["softmax_seconds"] == 2.0
    assert row["traces_cpu_seconds"] == 2.5 and row["softmax_cpu_seconds"] == 1.5
    assert row["total_seconds"] == 3730.4 and row["total_cpu_seconds"] == 3605.5
    assert row["reads"] == "dense2 traces (Train*) + softmax (Train*)"


def test_table5_charges_each_metric_only_what_it_reads():
    def score(metric, wall, cpu=None):
        return {"dataset": "d", "attack": "a", "metric": metric, "n": 10, "seconds": 1.0, "cpu_seconds": 0.5,
                "input_seconds": wall, "input_cpu_seconds": cpu or wall}

    t5 = tables.table5([score("random", {}), score("nc", {"dense2": 3.0}), score("deepgini", {"softmax": 2.0}),
                        score("dsa", {"dense2": 3.0, "dense2:validation": 0.5})]).set_index("metric")
    assert t5.loc["random", "reads"] == "nothing" and t5.loc["random", "total_seconds"] == 1.0
    assert t5.loc["nc", "softmax_seconds"] == 0 and t5.loc["nc", "total_seconds"] == 4.0
    assert t5.loc["deepgini", "traces_seconds"] == 0 and t5.loc["deepgini", "reads"] == "softmax (Train*)"
    assert t5.loc["dsa", "reads"] == "dense2 traces (Train*, validation)" and t5.loc["dsa", "total_seconds"] == 4.5


def test_written_tables_name_their_source(tmp_path):
    t3 = tables.table3(tables.points_frame(RECORDS), original(0.7))
    tables.write(t3, tmp_path / "t3.csv", tmp_path / "t3.md", "Table 3", "my.yaml", tables.table3_markdown(t3))
    assert (tmp_path / "t3.csv").read_text().startswith("dataset,attack,rep,configuration,metric,original,")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "t3.csv"), t3, check_dtype=False)
    pd.testing.assert_frame_equal(tables.read_csv(tmp_path / "t3.csv"), t3, check_dtype=False)
    provenance = json.loads((tmp_path / "t3.json").read_text())
    assert provenance["title"] == "Table 3" and provenance["source"] == "my.yaml"
    assert provenance["columns"] == list(t3.columns) and provenance["rows"] == 4
    assert (provenance["csv"], provenance["markdown"]) == ("t3.csv", "t3.md")
    assert provenance["hardware"]["device"] == "cpu" and provenance["versions"]["pandas"] == pd.__version__
    md = (tmp_path / "t3.md").read_text()
    assert "Source: `my.yaml`" in md and "**0.8000** (50/100)" in md


def test_table3_markdown_marks_the_best_metric_of_each_row():
    t3 = tables.table3(tables.points_frame(RECORDS), original(0.7))
    md = tables.table3_markdown(t3).set_index("configuration")
    assert md.loc["C2", "dsa"] == "**0.8000** (50/100)" and md.loc["C2", "random"] == "0.7500 (100/100)"
    assert md.loc["C3", "dsa"] == "**0.7200** (10/20)" and md.loc["C3", "random"] == "0.5500 (20/20)"


def test_table3_markdown_shows_ties_as_ties():
    """A shared best is marked '(tie)' on each tied cell and none is bold; a unique best stays bold."""
    row = {"dataset": "d", "attack": "a", "rep": 1, "original": 0.5, "inputs_total": 100, "utilisation": 0.5,
           "selected_on": "validation"}
    t3 = pd.DataFrame([{**row, "configuration": c, "metric": m, "best_acc": acc, "inputs_used": u}
                       for c, m, acc, u in [("C1", "dsa", 0.9, 50), ("C1", "nc", 0.9, 60), ("C1", "random", 0.8, 70),
                                            ("C2", "dsa", 0.7, 10), ("C2", "nc", 0.7, 20), ("C2", "random", 0.7, 30),
                                            ("C3", "dsa", 0.6, 10), ("C3", "nc", 0.65, 20),
                                            ("C3", "random", 0.6, 30)]])
    md = tables.table3_markdown(t3).set_index("configuration")
    assert md.loc["C1", "dsa"] == "0.9000 (50/100) (tie)" and md.loc["C1", "nc"] == "0.9000 (60/100) (tie)"
    assert md.loc["C1", "random"] == "0.8000 (70/100)"
    assert md.loc["C2", ["dsa", "nc", "random"]].str.endswith("(tie)").all()  # all three tie: no cell bold
    assert md.loc["C3", "nc"] == "**0.6500** (20/100)" and md.loc["C3", "dsa"] == "0.6000 (10/100)"
    assert not md.loc[["C1", "C2"]].apply(lambda c: c.astype(str).str.contains(r"\*\*")).any().any()


def test_cross_attack_table_takes_each_model_at_its_best_point():
    records = [dict(r, acc_adv_test_by_attack={"a": r["acc_test_star"], "b": 0.5}) for r in RECORDS]
    t3 = tables.table3(tables.points_frame(records), original(0.7))
    attacks = [{"dataset": "d", "attack": "a", "original_acc_adv_test": 0.4},
               {"dataset": "d", "attack": "b", "original_acc_adv_test": 0.3}]
    cross = tables.cross_attack(records, attacks, t3)
    assert list(cross.columns) == ["dataset", "rep", "model", "trained_on", "configuration", "metric", "inputs_used",
                                   "adv_a", "adv_b"]
    assert cross.iloc[0].to_dict() == {"dataset": "d", "rep": 1, "model": "original", "trained_on": "",
                                       "configuration": "",
                                       "metric": "", "inputs_used": 0, "adv_a": 0.4, "adv_b": 0.3}
    row = cross[(cross.configuration == "C2") & (cross.metric == "dsa")].iloc[0]
    assert (row.inputs_used, row.adv_a, row.adv_b) == (50, 0.80, 0.5)
    assert len(cross) == 1 + 4


def test_defence_table_orders_defences_and_attacks():
    results = [{"dataset": "d", "defence": f, "attack": a, "accuracy": acc}
               for f, a, acc in [("guided", "none", 0.9), ("none", "fgsm", 0.5), ("none", "none", 0.95),
                                 ("guided", "fgsm", 0.7)]]
    frame = tables.defences(results, ["none", "fgsm"])
    assert frame.to_dict("records") == [
        {"dataset": "d", "defence": "none", "repetitions": 1, "none": 0.95, "fgsm": 0.5},
        {"dataset": "d", "defence": "guided", "repetitions": 1, "none": 0.9, "fgsm": 0.7}]


def test_table3_chooses_on_validation_and_reports_test():
    records = [record("C2", "dsa", "p1", 50, 100, 0.90, val=0.60), record("C2", "dsa", "p2", 100, 100, 0.70, val=0.65)]
    on_val = tables.table3(tables.points_frame(records), original(0.5))
    assert (on_val.iloc[0].best_acc, on_val.iloc[0].inputs_used, on_val.iloc[0].selected_on) == (0.70, 100,
                                                                                                  "validation")
    on_test = tables.table3(tables.points_frame(records), original(0.5), select_on="test")
    assert (on_test.iloc[0].best_acc, on_test.iloc[0].inputs_used, on_test.iloc[0].selected_on) == (0.90, 50, "test")


def test_selection_never_reads_test():
    """Test* accuracies shuffled between the points (as a Test with shuffled labels would give) leave the
    points chosen on validation unchanged."""
    import numpy as np

    points = tables.points_frame([dict(r, acc_val_star=v) for r, v in zip(RECORDS, np.linspace(0.5, 0.9, 10))])
    chosen = tables.best_points(points)[tables.KEYS + ["point"]]
    for seed in range(5):
        shuffled = points.assign(acc_test_star=np.random.default_rng(seed).permutation(points["acc_test_star"]))
        pd.testing.assert_frame_equal(tables.best_points(shuffled)[tables.KEYS + ["point"]], chosen)
    assert not tables.best_points(points, "test")[tables.KEYS + ["point"]].equals(chosen)
