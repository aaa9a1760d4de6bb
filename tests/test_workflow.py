"""The real workflow end to end on the tiny digits study (tests/configs/tiny.yaml)."""

import json

import numpy as np
import pytest

from guided_retraining import tables
from guided_retraining.tables import read_csv

pytestmark = pytest.mark.workflow

METRICS = ["deepgini", "dsa", "lsa", "nc", "random", "softmax_entropy"]


def test_every_output_exists(tiny_run):
    results = tiny_run / "results"
    for n in (3, 4, 5):
        for ext in ("csv", "md"):
            assert (results / f"tables/table{n}.{ext}").stat().st_size > 0
    for ext in ("png", "pdf"):
        assert (results / f"figures/figure3_digits_fgsm.{ext}").stat().st_size > 1000
    retrained = list((results / "digits/r1/fgsm/retrain").glob("*/*/*.json"))
    assert len(retrained) == 3 * 6 * 3 + 6  # configurations x metrics x points, plus C2 at C3's total
    assert not list(results.rglob("*.tmp*")), "temporary files left behind"


def test_table3_rows_and_columns(tiny_run):
    t3 = read_csv(tiny_run / "results/tables/table3.csv")
    assert list(t3.columns) == ["dataset", "attack", "rep", "configuration", "metric", "original", "best_acc",
                                "inputs_used", "inputs_total", "utilisation", "selected_on"]
    assert (t3.rep == 1).all() and (t3.selected_on == "validation").all()
    assert len(t3) == 3 * 6
    assert sorted(t3.metric.unique()) == METRICS
    assert sorted(t3.configuration.unique()) == ["C1", "C2", "C3"]
    data = json.loads((tiny_run / "results/digits/data.json").read_text())
    n_train = data["counts"]["train"]
    totals = t3.groupby("configuration").inputs_total.unique()
    assert list(totals["C1"]) == [n_train + 120] and list(totals["C2"]) == [n_train + 120]
    assert list(totals["C3"]) == [120]
    assert ((t3.best_acc >= 0) & (t3.best_acc <= 1)).all()
    assert (t3.inputs_used <= t3.inputs_total).all()
    md = (tiny_run / "results/tables/table3.md").read_text()
    assert "Source: `tiny.yaml" in md and "original" in md and "/120)" in md


def test_c2_retraining_raises_test_star_accuracy(tiny_run):
    t3 = read_csv(tiny_run / "results/tables/table3.csv")
    c2 = t3[t3.configuration == "C2"]
    assert (c2.best_acc > c2.original).all(), c2


def test_table4_compares_c2_at_c3_total(tiny_run):
    t4 = read_csv(tiny_run / "results/tables/table4.csv")
    assert list(t4.columns) == tables.TABLE4_COLUMNS
    assert sorted(t4.metric) == METRICS
    assert (t4.inputs_C2 == 120).all() and t4.inputs_C3.isin([40, 80, 120]).all()
    assert np.allclose(t4.difference, t4.acc_C2 - t4.acc_C3)


def test_table5_times_every_metric(tiny_run):
    t5 = read_csv(tiny_run / "results/tables/table5.csv")
    assert list(t5.columns) == tables.TABLE5_COLUMNS
    assert sorted(t5.metric) == METRICS
    assert np.allclose(t5.total_seconds, t5.seconds + t5.traces_seconds + t5.softmax_seconds)
    by = t5.set_index("metric")
    for metric in ("nc", "lsa", "dsa"):  # the traces of the last hidden layer (and its pass's classes) only
        assert by.loc[metric, "traces_seconds"] > 0 and by.loc[metric, "softmax_seconds"] == 0, metric
        assert by.loc[metric, "reads"].endswith(" traces (Train*)"), metric
    for metric in ("deepgini", "softmax_entropy"):
        assert by.loc[metric, "softmax_seconds"] > 0 and by.loc[metric, "traces_seconds"] == 0, metric
    assert by.loc["random", "reads"] == "nothing" and by.loc["random", "total_seconds"] == by.loc["random", "seconds"]
    assert by.loc["random", "hh:mm:ss"] == "00:00:00"  # as in the study's Table 5
    data = json.loads((tiny_run / "results/digits/data.json").read_text())
    assert (t5.scored_inputs == data["counts"]["train"] + 120).all()
    assert (t5.seconds >= 0).all()


def test_results_record_parameters_and_seed(tiny_run):
    result = json.loads((tiny_run / "results/digits/r1/fgsm/retrain/C2/dsa/p3.json").read_text())
    assert result["seed"] == 0 and result["train"]["epochs"] == 3 and result["data_points"] == 3
    assert result["inputs_used"] == result["inputs_total"]
    assert result["versions"]["torch"]
    attack = json.loads((tiny_run / "results/digits/r1/fgsm/attack.json").read_text())
    assert attack["settings"] == {"kind": "fgsm", "eps": 0.1, "keep_successful": False, "softmax_as_logits": False,
                                  "adv_test": None}
    assert 0 < attack["adv_test"]["success_rate"] <= 1
    assert attack["adv_test"]["linf_max"] <= 0.1 + 1e-6
    assert attack["original_acc_adv_test"] < attack["original_acc_test"]


def test_logs_show_progress_with_eta(tiny_run):
    log = (tiny_run / "results/logs/digits/r1/train_original.log").read_text()
    assert "ETA" in log and "100%" in log and "validation accuracy" in log


def test_points_grow_to_the_whole_set(tiny_run):
    base = tiny_run / "results/digits/r1/fgsm/retrain/C3/random"
    used = [json.loads((base / f"p{k}.json").read_text())["inputs_used"] for k in (1, 2, 3)]
    assert used == [40, 80, 120]


def test_an_entry_script_runs_alone(tiny_run, tmp_path):
    import shutil
    import subprocess
    import sys

    from conftest import REPO

    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, ignore=shutil.ignore_patterns(".snakemake"))
    target = work / "results/digits/r1/fgsm/orders/dsa.npz"
    before = np.load(target)["order"]
    target.unlink()
    subprocess.run([sys.executable, str(REPO / "scripts/order.py"), "results/digits/r1/fgsm/orders/dsa.npz",
                    "--configfile", "tiny.yaml"], cwd=work, check=True, capture_output=True)
    assert np.array_equal(np.load(target)["order"], before)
    assert "rule order" in (work / "results/logs/digits/r1/fgsm/order_dsa.log").read_text()
