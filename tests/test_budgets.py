"""Fixed-budget endpoints and the paired statistics over them, on a tiny real study with 4 repetitions."""

import itertools
import json
from collections import Counter

import numpy as np
import pytest
from scipy import stats as scipy_stats

from conftest import AFTER_RESULTS, dry_run_jobs, snakemake, write_config

from guided_retraining import tables

BUDGETS = [0.1, 0.5, 30]  # 10% and 50% of T (C3: of Adv.Train), and 30 inputs
POINTS = ["f0.1", "f0.5", "n30"]


def four_reps(c, budgets=BUDGETS):
    c.update(repetitions=4, configurations=["C2", "C3"])
    c["metrics"] = {m: c["metrics"][m] for m in ("nc", "deepgini", "random")}
    c["retrain"] = {"data_points": 2, "train": {"epochs": 1}}
    c["aggregate"] = {"budgets": list(budgets)}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    work = tmp_path_factory.mktemp("budgets")
    config = write_config(work / "budgets.yaml", four_reps)
    snakemake(work, "--cores", "2", configfile=config)
    return work


def results(study):
    return [json.loads(p.read_text()) for p in sorted((study / "results/digits").glob("r*/fgsm/retrain/*/*/*.json"))]


def test_every_metric_trains_on_the_same_number_of_inputs_at_a_budget(study):
    records = [r for r in results(study) if r["point"] in POINTS]
    assert len(records) == 4 * 2 * 3 * 3  # repetitions x configurations x metrics x budgets
    used = {}
    for r in records:
        used.setdefault((r["rep"], r["configuration"], r["point"]), set()).add((r["inputs_used"], r["inputs_total"]))
    assert all(len(v) == 1 for v in used.values()), used
    totals = {c: {t for (_, cc, _), ((_, t),) in used.items() if cc == c} for c in ("C2", "C3")}
    assert totals["C3"] == {120} and len(totals["C2"]) == 1 and min(totals["C2"]) > 120  # Adv.Train; Train*
    for (rep, configuration, point), ((inputs, total),) in used.items():
        expected = {"f0.1": int(np.floor(0.1 * total + 0.5)), "f0.5": int(np.floor(0.5 * total + 0.5)), "n30": 30}
        assert inputs == expected[point]
    # the study's curve and Table 3 leave the budget points out
    t3 = tables.read_csv(study / "results/tables/table3.csv")
    points = {(r["rep"], r["configuration"], r["metric"], r["inputs_used"]): r["point"] for r in results(study)}
    assert all(points[(b.rep, b.configuration, b.metric, b.inputs_used)].startswith("p") for b in t3.itertuples())


def _exact_signed_rank_p(d):
    """Brute force over every sign flip of the non-zero differences' average ranks."""
    d = np.asarray(d)[np.asarray(d) != 0]
    if not len(d):
        return 1.0
    ranks = scipy_stats.rankdata(np.abs(d))
    observed, centre = ranks[d > 0].sum(), ranks.sum() / 2
    sums = [np.dot(ranks, signs) for signs in itertools.product((0, 1), repeat=len(d))]
    return float(np.mean([abs(s - centre) >= abs(observed - centre) - 1e-9 for s in sums]))


def test_budget_rows_agree_with_a_recomputation_from_the_point_files(study):
    stats = tables.read_csv(study / "results/tables/statistics.csv")
    for column in ("endpoint", "n", "n_nonzero", "diff_mean", "diff_ci_low", "diff_ci_high", "paired_share", "p",
                   "p_holm", "a12_unpaired", "reps_for_80_power", "note"):
        assert column in stats.columns
    assert set(stats["endpoint"]) == {"best", "auc"} | {f"budget_{p}" for p in POINTS}
    acc = {(r["rep"], r["configuration"], r["metric"], r["point"]): r["acc_test_star"] for r in results(study)}
    checked = 0
    for configuration, point in itertools.product(("C2", "C3"), POINTS):
        rows = stats[(stats.configuration == configuration) & (stats.endpoint == f"budget_{point}")]
        assert sorted(rows.metric) == ["deepgini", "nc", "random"]
        ps = {}
        for metric in ("deepgini", "nc"):
            x = np.array([acc[rep, configuration, metric, point] for rep in range(1, 5)])
            y = np.array([acc[rep, configuration, "random", point] for rep in range(1, 5)])
            d = x - y
            tied = np.round(d, 12)  # accuracies are k/n: equal differences may differ by ~1e-16 in floating point
            row = rows[rows.metric == metric].iloc[0]
            half = scipy_stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
            assert row.n == 4 and row.n_nonzero == int((tied != 0).sum())
            assert row["mean"] == pytest.approx(x.mean(), abs=1e-12)
            assert row.diff_mean == pytest.approx(d.mean(), abs=1e-12)
            if half > 0:
                ci = (row.diff_ci_low, row.diff_ci_high)
                assert ci == pytest.approx((d.mean() - half, d.mean() + half), abs=1e-12)
            assert row.paired_share == ((tied > 0).sum() + 0.5 * (tied == 0).sum()) / 4
            assert row.p == pytest.approx(_exact_signed_rank_p(tied), abs=1e-12)
            # 4 pairs: the smallest p is 0.125
            assert "cannot be reached" in row.note or "all 4 pairs equal" in row.note
            ps[metric] = row.p
            checked += 1
        low, high = sorted(ps.values())  # Holm over the 2 comparisons with random
        holm = {m: min(1, 2 * low) if p == low else max(min(1, 2 * low), high) for m, p in ps.items()}
        for metric, expected in holm.items():
            assert rows[rows.metric == metric].iloc[0].p_holm == pytest.approx(expected, abs=1e-12)
        assert rows[rows.metric == "random"].iloc[0].n == 4
    assert checked == 12


def test_changing_the_budgets_runs_only_the_new_points(study):
    config = write_config(study / "more.yaml", lambda c: four_reps(c, BUDGETS + [0.25]))
    jobs = dry_run_jobs(study, config)
    counts = Counter(rule for rule, _ in jobs)
    assert counts == {"retrain": 4 * 2 * 3, **AFTER_RESULTS}, counts
    assert {wc["point"] for rule, wc in jobs if rule == "retrain"} == {"f0.25"}

    def more_points(c):
        four_reps(c)
        c["retrain"]["data_points"] = 3

    jobs = dry_run_jobs(study, write_config(study / "points.yaml", more_points))
    assert {wc["point"] for rule, wc in jobs if rule == "retrain"} == {"p1", "p2", "p3", "atc3"}  # no budget point


def test_identical_runs_give_byte_identical_tables_and_figures(study):
    outputs = sorted(p for d in ("tables", "figures") for p in (study / "results" / d).iterdir())
    assert {p.suffix for p in outputs} == {".csv", ".json", ".md", ".png", ".pdf"}  # .json: each table's provenance
    assert any(p.name.startswith("budgets_") for p in outputs) and any(p.name.startswith("paired_share_")
                                                                      for p in outputs)
    before = {p.name: p.read_bytes() for p in outputs}
    snakemake(study, "--cores", "2", "--forcerun", "aggregate", configfile=study / "budgets.yaml")
    after = {p.name: p.read_bytes() for p in outputs}
    assert [name for name in before if before[name] != after[name]] == []
