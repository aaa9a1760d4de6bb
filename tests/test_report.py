"""The report's figures and table on the tiny study, and `snakemake --report` over it."""

import json
from collections import Counter
import time

import numpy as np
import pandas as pd
import pytest

from guided_retraining import plots, tables
from guided_retraining.io import load_npz
from guided_retraining.retraining import point_size
from guided_retraining.tables import read_csv

from conftest import AFTER_RESULTS, dry_run_jobs, snakemake

METRICS = ["deepgini", "dsa", "lsa", "nc", "random", "softmax_entropy"]
N_POINTS = 3  # tests/configs/tiny.yaml: retrain.data_points
FIGURES = ["figure3", "scores", "adversarial_share"]
TABLES = ["table3", "table4", "table5", "retraining_time", "adversarial_share"]


def test_separation_auc():
    assert plots.separation_auc(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == 1.0
    assert plots.separation_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 0.0
    assert plots.separation_auc(np.ones(4), np.ones(3)) == 0.5  # ties count half
    assert np.isnan(plots.separation_auc(np.ones(4), np.array([])))


def test_adversarial_share_by_hand():
    # the sizes retraining used (here a configured step of 1,750 with a shorter last point), not k*T/n
    points = pd.DataFrame({"configuration": ["C2", "C2", "C2", "C1", "C3"], "metric": ["m"] * 5,
                           "point": ["p1", "p2", "atc3", "p1", "p1"], "inputs_used": [1750, 2270, 100, 1750, 50],
                           "adversarial_used": [875, 900, 100, 0, 50]})
    share = tables.adversarial_share(points)
    assert share.inputs.tolist() == [1750, 2270] and share.point.tolist() == [1, 2]
    assert share.adversarial_share.tolist() == [0.5, 900 / 2270]


def test_long_tail_goes_to_log_scale():
    values = np.r_[np.linspace(0, 1, 200), 1e9]
    tamed, log_scale = plots._tame_tail(values)
    assert log_scale and tamed.max() == pytest.approx(9.0)
    same, log_scale = plots._tame_tail(np.linspace(-1, 1, 200))
    assert not log_scale and np.array_equal(same, np.linspace(-1, 1, 200))


@pytest.mark.workflow
def test_new_figures_exist(tiny_run):
    for name in FIGURES:
        for ext in ("png", "pdf"):
            assert (tiny_run / f"results/figures/{name}_digits_fgsm.{ext}").stat().st_size > 1000
    assert (tiny_run / "results/tables/adversarial_share.md").read_text().startswith("# Adversarial share")


@pytest.mark.workflow
def test_adversarial_share_table(tiny_run):
    share = read_csv(tiny_run / "results/tables/adversarial_share.csv")
    assert list(share.columns) == ["dataset", "attack", "metric", "point", "inputs", "adversarial_share"]
    assert len(share) == len(METRICS) * N_POINTS
    assert sorted(share.metric.unique()) == METRICS
    assert set(share.point) == set(range(1, N_POINTS + 1))
    assert ((share.adversarial_share >= 0) & (share.adversarial_share <= 1)).all()
    n_train = json.loads((tiny_run / "results/digits/data.json").read_text())["counts"]["train"]
    total = n_train + 120
    assert share.inputs.tolist() == [point_size(k, N_POINTS, total) for k in range(1, N_POINTS + 1)] * len(METRICS)
    last = share[share.point == N_POINTS]
    assert np.allclose(last.adversarial_share, 120 / total)  # the whole of Train*, whatever the metric

    # one value by hand from the order file
    order = load_npz(tiny_run / "results/digits/r1/fgsm/orders/dsa.npz", ["order", "n_train"])
    assert int(order["n_train"]) == n_train and len(order["order"]) == total
    inputs = point_size(1, N_POINTS, total)
    expected = np.mean(order["order"][:inputs] >= n_train)
    row = share[(share.metric == "dsa") & (share.point == 1)].iloc[0]
    assert row.inputs == inputs and row.adversarial_share == pytest.approx(expected)


@pytest.mark.workflow
def test_report_has_every_table_figure_and_caption(tiny_run, tmp_path):
    report = tmp_path / "report.html"
    start = time.perf_counter()
    snakemake(tiny_run, "--report", str(report), configfile=tiny_run / "tiny.yaml")
    seconds = time.perf_counter() - start
    html = report.read_text()
    for name in TABLES:  # shown as HTML pages (rule report_pages); tests/test_report_browser.py reads them
        assert f"{name}.html" in html, name
    for name in FIGURES:
        assert f"{name}_digits_fgsm.html" in html, name
    # a sentence of a caption, of the workflow description and of each figure's caption
    assert "What each metric really selects first" in html
    assert "charged only what it reads" in html
    assert "third outcome" in html  # the retraining time's caption
    assert "training_digits.png" in html and "Training graphs" in html
    assert "The dashed line is" in html
    assert "metrics nc, lsa, dsa, deepgini, softmax_entropy, random" in html
    print(f"report: {report.stat().st_size / 1e6:.1f} MB in {seconds:.1f} s")


@pytest.mark.workflow
def test_missing_new_figure_is_made_again(tiny_run):
    """`rule all` asks for the new figures and table too: a missing one schedules aggregate."""
    figure = tiny_run / "results/figures/scores_digits_fgsm.png"
    aside = figure.with_name("aside.png")
    figure.replace(aside)
    try:
        jobs = dry_run_jobs(tiny_run, tiny_run / "tiny.yaml")
    finally:
        aside.replace(figure)
    # the figure (aggregate), then the summary and report pages; objectives reads no figure: not re-run
    assert Counter(rule for rule, _ in jobs) == {"aggregate": 1, "summary": 1, "report_pages": 1}
