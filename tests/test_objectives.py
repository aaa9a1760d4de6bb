"""Fault detection and performance estimation of a metric's order (guided_retraining.objectives): exact values
on hand-made orders against a per-input reference, and the objectives table of a tiny real study."""

import itertools
import json
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from conftest import Files, script, snakemake, write_config

from guided_retraining import objectives, statistics, tables
from guided_retraining.errors import DataError

# five inputs: predicted classes and true labels; inputs 1, 3 and 4 are misclassified (m = 3 faults)
PRED = np.array([0, 1, 1, 2, 0])
LABELS = np.array([0, 0, 1, 1, 1])
ORDER = np.array([3, 4, 0, 1, 2])  # faults at positions 1, 2 and 4


def reference_apfd(order, fault_mask):
    """Per input: after the i-th input of the order, F_i faults are found; the area under the step curve of
    F_i / m over i / n, less the half step of the midpoint convention, is APFD (Rothermel et al. 2001):
    (1 / (n m)) sum_i F_i - 1 / (2n) = 1 - sum(TF) / (n m) + 1 / (2n)."""
    n, m = len(order), int(sum(fault_mask[i] for i in order))
    found, area = 0, Fraction(0)
    for i in order:
        found += int(fault_mask[i])
        area += Fraction(found, n * m)
    return area - Fraction(1, 2 * n)


def reference_error(order, correct, b):
    """Per input: count the correct ones among the first b, and over all."""
    head = sum(int(correct[i]) for i in order[:b])
    total = sum(int(correct[i]) for i in order)
    return abs(Fraction(head, b) - Fraction(total, len(order)))


def test_faults_are_the_misclassified_inputs():
    assert objectives.faults(PRED, LABELS).tolist() == [False, True, False, True, True]


def test_apfd_by_hand_and_against_the_per_input_reference():
    mask = objectives.faults(PRED, LABELS)
    assert objectives.fault_positions(ORDER, mask).tolist() == [1, 2, 4]
    # 1 - (1 + 2 + 4) / (5 * 3) + 1 / 10 = 19/30
    assert objectives.apfd(ORDER, mask) == pytest.approx(19 / 30, abs=1e-15)
    assert objectives.apfd(ORDER, mask) == pytest.approx(float(reference_apfd(ORDER, mask)), abs=1e-15)
    assert objectives.apfd_ideal(5, 3) == pytest.approx(0.7)  # faults first: 1 - 6/15 + 1/10
    assert objectives.apfd(np.array([1, 3, 4, 0, 2]), mask) == pytest.approx(0.7)
    assert objectives.apfd(np.array([0, 2, 1, 3, 4]), mask) == pytest.approx(1 - 12 / 15 + 0.1)  # faults last
    assert np.isnan(objectives.apfd(ORDER, np.zeros(5, dtype=bool)))


def test_random_references_are_the_exact_expectations_over_every_order():
    mask = objectives.faults(PRED, LABELS)
    orders = [np.array(p) for p in itertools.permutations(range(5))]
    assert np.mean([float(reference_apfd(o, mask)) for o in orders]) == pytest.approx(objectives.APFD_RANDOM)
    for b in range(1, 6):
        assert np.mean([objectives.found_share(o, mask, b) for o in orders]) == pytest.approx(
            objectives.found_share_random(5, 3, b))
        errors = [float(reference_error(o, ~mask, b)) for o in orders]
        assert np.mean(errors) == pytest.approx(objectives.estimation_error_random(5, 2, b), abs=1e-12)
        assert min(errors) == pytest.approx(objectives.estimation_error_ideal(5, 2, b), abs=1e-12)
    # b = 2 of 5 inputs, 2 correct: P(K = 0, 1, 2) = 3/10, 6/10, 1/10; |K/2 - 0.4| = 0.4, 0.1, 0.6
    assert objectives.estimation_error_random(5, 2, 2) == pytest.approx(0.24)
    assert objectives.estimation_error_ideal(5, 2, 2) == pytest.approx(0.1)


def test_found_share_and_estimation_error_by_hand():
    mask = objectives.faults(PRED, LABELS)
    assert objectives.found_share(ORDER, mask, 2) == pytest.approx(2 / 3)
    assert objectives.found_share_ideal(3, 2) == pytest.approx(2 / 3)
    assert objectives.found_share_random(5, 3, 2) == pytest.approx(2 / 5)
    # the first 2 are both faults: estimated accuracy 0 against 2/5 (the bias of ranking faults first)
    assert objectives.estimated_accuracy(ORDER, ~mask, 2) == 0.0
    assert objectives.estimation_error(ORDER, ~mask, 2) == pytest.approx(0.4)
    assert objectives.estimation_error(ORDER, ~mask, 3) == pytest.approx(1 / 15)  # 1/3 against 2/5
    assert objectives.estimation_error(ORDER, ~mask, 5) == 0.0
    for b in range(1, 6):
        assert objectives.estimation_error(ORDER, ~mask, b) == pytest.approx(float(reference_error(ORDER, ~mask, b)))


def test_evaluate_order_agrees_with_the_single_functions_on_a_pool_and_its_part():
    rng = np.random.default_rng(3)
    mask = rng.random(400) < 0.2
    order = rng.permutation(400)
    part = order[order >= 300]  # the order restricted to the last 100 inputs (as retraining.pool's C3)
    for sub in (order, part):
        budgets = [("f0.1", 40 if len(sub) == 400 else 10), ("n7", 7)]
        result = objectives.evaluate_order(sub, mask, budgets)
        n, m = len(sub), int(mask[sub].sum())
        assert result["apfd"] == pytest.approx(float(reference_apfd(sub, mask)), abs=1e-12)
        assert result["apfd:ideal"] == objectives.apfd_ideal(n, m) and result["apfd:random"] == 0.5
        for name, b in budgets:
            assert result[f"found_{name}"] == pytest.approx(mask[sub[:b]].sum() / m)
            assert result[f"abs_error_{name}"] == pytest.approx(float(reference_error(sub, ~mask, b)), abs=1e-12)
            assert result[f"found_{name}:random"] == pytest.approx(b / n)


def test_bad_inputs_stop_with_one_line():
    with pytest.raises(DataError, match="one length"):
        objectives.faults(PRED, LABELS[:4])
    with pytest.raises(DataError, match="indexes outside the 5 inputs"):
        objectives.apfd(np.array([0, 5]), np.zeros(5, dtype=bool))


def _values(metric_values, endpoint="abs_error_f0.5"):
    rows = []
    for metric, values in metric_values.items():
        for rep, v in enumerate(values, start=1):
            rows.append({"dataset": "d", "attack": "a", "objective": objectives.objective_of(endpoint),
                         "scope": "Train*",
                         "endpoint": endpoint, "budget": "f0.5", "inputs": 10, "metric": metric, "rep": rep,
                         "value": v, "random_expected": 0.1, "ideal": 0.0})
    return pd.DataFrame(rows)


def test_table_orients_the_error_so_that_a_positive_gain_is_better_and_holm_corrects_per_group():
    errors = {"good": [0.01, 0.02, 0.0, 0.01, 0.03, 0.02, 0.01], "bad": [0.3, 0.2, 0.25, 0.4, 0.3, 0.2, 0.3],
              "random": [0.1, 0.12, 0.08, 0.1, 0.09, 0.11, 0.1]}
    table = objectives.objectives_table(_values(errors))
    assert list(table.columns) == objectives.TABLE_COLUMNS
    rows = {r.metric: r for r in table.itertuples()}
    assert rows["good"].better == "lower" and rows["good"].gain_mean == pytest.approx(
        np.mean(np.subtract(errors["random"], errors["good"])))
    assert rows["bad"].gain_mean < 0 and rows["good"].paired_share == 1.0 and rows["bad"].paired_share == 0.0
    p = [statistics.signed_rank_test(np.subtract(errors["random"], errors[m]))["p"] for m in ("good", "bad")]
    assert [rows["good"].p, rows["bad"].p] == pytest.approx(p)
    assert [rows["good"].p_holm, rows["bad"].p_holm] == pytest.approx(list(statistics.holm(p)))
    assert rows["good"].mean == pytest.approx(np.mean(errors["good"]))
    assert (rows["good"].ci_low, rows["good"].ci_high) == pytest.approx(statistics.t_interval(errors["good"]))
    assert pd.isna(rows["random"].gain_mean) and rows["random"].random_expected == pytest.approx(0.1)
    # higher is better for APFD: the same numbers give the opposite gains
    flipped = objectives.objectives_table(_values(errors, "apfd"))
    assert flipped.set_index("metric").loc["good", "gain_mean"] == pytest.approx(-rows["good"].gain_mean)


def test_overview_names_the_best_metric_and_counts_intervals_above_and_below_zero():
    """Hand-checkable: gains over random are good +0.1 (each rep), flat 0 (ties), bad -0.2 +- 0.01."""
    values = {"good": [0.6, 0.7, 0.8], "flat": [0.5, 0.6, 0.7], "bad": [0.31, 0.39, 0.5], "random": [0.5, 0.6, 0.7]}
    table = objectives.objectives_table(_values(values, "apfd"))
    view = objectives.overview(table)
    assert list(view.columns) == objectives.OVERVIEW_COLUMNS and len(view) == 1
    row = view.iloc[0]
    assert (row.best, row.n, row.compared) == ("good", 3, 3)
    assert row.gain_mean == pytest.approx(0.1) and row.paired_share == 1.0
    # good's gains are +0.1 each time (sd 0: its interval is [0.1, 0.1]); bad's -0.19, -0.21, -0.2
    assert (row.better_by_ci, row.worse_by_ci) == (1, 1)
    assert row.ranking == "good > flat > bad"
    wide = objectives.overview_markdown(view)
    assert list(wide.columns) == ["dataset", "objective", "scope", "endpoint", "a"]
    assert wide.iloc[0]["a"].startswith("good +0.100 [+0.100, +0.100]; 1 above, 1 below 0 of 3")
    assert objectives.overview(objectives.objectives_table(_values({"good": [0.6, 0.7]}))).empty
    # a group with fewer repetitions (a metric undefined in one) says so
    fewer = pd.concat([view, view.assign(attack="b", n=2)], ignore_index=True)
    cells = objectives.overview_markdown(fewer)
    assert "(n = 2)" in cells.iloc[0]["b"] and "(n =" not in cells.iloc[0]["a"]
    one = objectives.overview(objectives.objectives_table(_values({"good": [0.6], "random": [0.5]}, "apfd")))
    cell = objectives.overview_markdown(one).iloc[0]["a"]
    assert cell == "good +0.100 (n/a: no interval from 1 repetition); 0 above, 0 below 0 of 1" and "nan" not in cell


def test_without_random_the_table_says_so():
    table = objectives.objectives_table(_values({"good": [0.01, 0.02, 0.03]}))
    assert pd.isna(table["gain_mean"].iloc[0]) and "no random metric" in table["note"].iloc[0]


def test_the_script_refuses_an_order_that_is_not_a_permutation(tmp_path):
    from guided_retraining.io import save_npz

    save_npz(tmp_path / "softmax.npz", pred=PRED, n_train=np.int64(3))
    save_npz(tmp_path / "data.npz", y_train=LABELS[:3])
    save_npz(tmp_path / "adv.npz", y_adv_train=LABELS[3:])
    save_npz(tmp_path / "order.npz", order=np.array([0, 0, 1, 2, 3]))
    job = Files(input=Files(softmax=[str(tmp_path / "softmax.npz")], data=[str(tmp_path / "data.npz")],
                            adversarial=[str(tmp_path / "adv.npz")], orders=[str(tmp_path / "order.npz")], retrain=[]),
                params=Files(grid=[("d", "a")], reps=[1], metrics=["m"], budgets=["f0.5"], retraining_budgets=[],
                             source="test",
                             results=str(tmp_path)))
    import logging

    with pytest.raises(DataError, match="not a permutation of the 5 inputs of Train"):
        script("objectives").main(job, logging.getLogger("test"))
    assert not (tmp_path / "tables").exists()


@pytest.mark.parametrize("budgets, words", [
    ([0.1, 1.5], ["objectives.budgets.1", "(0, 1]", "1.5"]),
    ([0.25, 0.25], ["objectives.budgets.1", "repeats objectives.budgets.0"]),
    ([121], ["objectives.budgets.0", "121", "Adv.Train", "120"]),
    (["half"], ["objectives.budgets.0", "'half'"]),
])
def test_bad_objective_budgets_are_named_in_one_line(budgets, words):
    import yaml

    from conftest import CONFIGS, REPO

    from guided_retraining.config import check_semantics, validate_schema
    from guided_retraining.errors import ConfigError

    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    config["objectives"] = {"budgets": budgets}
    with pytest.raises(ConfigError) as info:
        validate_schema(config, REPO / "workflow/schemas/config.schema.yaml")
        check_semantics(config, check_data=False)
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), str(info.value)


# ---- the objectives table of a tiny real study (digits, FGSM): 2 repetitions, C2, 3 metrics, budgets 10% and 30

def _tiny(c):
    c.update(repetitions=2, configurations=["C2"])
    c["datasets"]["digits"]["train"]["epochs"] = 4
    c["metrics"] = {m: c["metrics"][m] for m in ("nc", "deepgini", "random")}
    c["retrain"] = {"data_points": 2, "train": {"epochs": 1}}
    c["aggregate"] = {"budgets": [30]}  # retraining guidance's budget
    c["objectives"] = {"budgets": [0.1, 30]}  # fault detection's and estimation's

@pytest.fixture(scope="module")
def study(tmp_path_factory):
    work = tmp_path_factory.mktemp("objectives")
    config = write_config(work / "objectives.yaml", _tiny)
    snakemake(work, "--cores", "2", "results/tables/objectives.csv", configfile=config)
    return work


@pytest.mark.workflow
def test_tiny_study_objectives_table_and_figures(study):
    table = tables.read_csv(study / "results/tables/objectives.csv")
    assert list(table.columns) == objectives.TABLE_COLUMNS
    expected = {("fault_detection", s, e) for s in ("Train*", "Adv.Train") for e in ("apfd", "found_f0.1", "found_n30")}
    expected |= {("estimation", s, e) for s in ("Train*", "Adv.Train") for e in ("abs_error_f0.1", "abs_error_n30")}
    expected |= {("retraining", "C2", "accuracy_n30")}
    assert set(zip(table.objective, table.scope, table.endpoint)) == expected
    assert len(table) == len(expected) * 3 and set(table.metric) == {"nc", "deepgini", "random"}
    assert (table["n"] == 2).all() and (table.loc[table.metric != "random", "gain_mean"].notna()).all()
    assert list(dict.fromkeys(table.objective)) == ["fault_detection", "estimation", "retraining"]
    for objective in ("fault_detection", "estimation", "retraining"):
        for ext in ("png", "pdf"):
            assert (study / f"results/figures/objectives_{objective}_digits.{ext}").stat().st_size > 0
    # recomputed per input from the files: predicted classes, labels and each order
    from guided_retraining.io import load_npz

    y_train = load_npz(study / "results/digits/data.npz", ["y_train"], only=True)["y_train"]
    for metric in ("nc", "deepgini", "random"):
        apfds, errors = [], []
        for rep in (1, 2):
            base = study / f"results/digits/r{rep}/fgsm"
            soft = load_npz(base / "activations/softmax.npz", ["pred", "n_train"])
            labels = np.concatenate([y_train, load_npz(base / "adversarial.npz", ["y_adv_train"])["y_adv_train"]])
            mask = soft["pred"] != labels
            order = load_npz(base / f"orders/{metric}.npz", ["order"])["order"]
            apfds.append(float(reference_apfd(order, mask)))
            errors.append(float(reference_error(order, ~mask, 30)))
        row = table[(table.metric == metric) & (table.scope == "Train*")].set_index("endpoint")
        assert row.loc["apfd", "mean"] == pytest.approx(np.mean(apfds), abs=1e-12)
        assert row.loc["abs_error_n30", "mean"] == pytest.approx(np.mean(errors), abs=1e-12)
        assert row.loc["found_n30", "inputs_mean"] == 30
    accuracy = {}
    for path in (study / "results/digits").glob("r*/fgsm/retrain/C2/*/n30.json"):
        r = json.loads(path.read_text())
        accuracy.setdefault(r["metric"], []).append(r["acc_test_star"])
    retrain = table[table.endpoint == "accuracy_n30"].set_index("metric")
    for metric, values in accuracy.items():
        assert retrain.loc[metric, "mean"] == pytest.approx(np.mean(values))
    gain = np.mean(accuracy["deepgini"]) - np.mean(accuracy["random"])
    assert retrain.loc["deepgini", "gain_mean"] == pytest.approx(gain)


@pytest.mark.workflow
def test_tiny_study_objectives_are_byte_identical_when_made_again(study):
    outputs = sorted((study / "results").glob("tables/objectives.*")) + sorted(
        (study / "results").glob("figures/objectives_*"))
    before = {p: p.read_bytes() for p in outputs}
    snakemake(study, "--cores", "2", "--forcerun", "objectives", "results/tables/objectives.csv",
              configfile=study / "objectives.yaml")
    assert {p: p.read_bytes() for p in outputs} == before


@pytest.mark.workflow
def test_tiny_study_objectives_are_in_the_report(study, tmp_path):
    report = tmp_path / "report.html"
    snakemake(study, "--report", str(report), configfile=study / "objectives.yaml")
    html = report.read_text()
    for objective in ("fault_detection", "estimation", "retraining"):
        assert f"objectives_{objective}_digits.png" in html
    assert "objectives.csv" in html and "MetricsBenchmark's AE" in html and "paired gain over random" in html.lower()
