"""Statistics over repetitions on hand-made samples with known values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from guided_retraining import statistics, tables
from guided_retraining.metrics import uncertainty


def test_a12_and_magnitude_on_hand_made_samples():
    assert statistics.a12([1, 2, 3], [1, 1, 1]) == pytest.approx(7.5 / 9)  # 6 wins, 3 ties of 9 pairs
    assert statistics.a12([1, 1, 1], [1, 2, 3]) == pytest.approx(1.5 / 9)
    assert statistics.a12([4, 5], [1, 2]) == 1.0 and statistics.a12([1, 2], [1, 2]) == 0.5
    assert [statistics.a12_magnitude(a) for a in (0.5, 0.55, 0.44, 0.6, 0.36, 0.7, 0.71, 0.2)] == [
        "negligible", "negligible", "small", "small", "medium", "medium", "large", "large"]


def test_signed_rank_p_by_hand_with_zeros_and_ties():
    # 6 pairs, one zero, five positive: zeros dropped, m = 5, T+ = 15 only for all + -> p = 2/32
    assert statistics.signed_rank_test([0, 1, 2, 3, 4, 5]) == {"n": 6, "n_nonzero": 5, "statistic": 15.0,
                                                               "p": 0.0625, "method": "exact"}
    # ties: |d| = 1, 1, 2, 3 -> ranks 1.5, 1.5, 3, 4; T+ = 6 of 10. Of the 16 sign flips, 4 have |T+ - 5| < 1
    # (T+ = 4.5, 4.5, 5.5, 5.5): p = 12/16
    test = statistics.signed_rank_test([0.0, 1.0, 1.0, 2.0, -3.0])
    assert (test["n"], test["n_nonzero"], test["statistic"], test["p"]) == (5, 4, 6.0, 0.75)
    # all tied and positive: still only all-positive is as extreme, p = 2/2**4
    assert statistics.signed_rank_test([0.5, 0.5, 0.5, 0.5])["p"] == 0.125
    assert statistics.signed_rank_test([0.0, 0.0, 0.0]) == {"n": 3, "n_nonzero": 0, "statistic": 0.0, "p": 1.0,
                                                            "method": "exact"}
    assert statistics.signed_rank_test([1.0, -1.0])["p"] == 1.0
    # without zeros and ties the exact distribution is SciPy's
    rng = np.random.default_rng(0)
    for n in (3, 7, 12, 20):
        d = rng.normal(0.4, 1, n)
        assert statistics.signed_rank_test(d)["p"] == pytest.approx(scipy_stats.wilcoxon(d, method="exact").pvalue,
                                                                    rel=1e-12)
    d = rng.normal(0.3, 1, 60)  # beyond 50 non-zero pairs: the normal approximation, no continuity correction
    test = statistics.signed_rank_test(d)
    assert test["method"] == "normal"
    assert test["p"] == pytest.approx(scipy_stats.wilcoxon(d, method="approx", correction=False).pvalue, rel=1e-9)
    assert [statistics.min_wilcoxon_p(m) for m in (0, 4, 5, 6)] == [1.0, 0.125, 0.0625, 0.03125]


def test_t_interval_has_its_nominal_coverage_at_small_n():
    """Seeded simulation on normal data: the 95% t-interval covers the true mean ~95% of the time at
    n = 3 and n = 10 (a percentile bootstrap covers ~76% at n = 3)."""
    rng = np.random.default_rng(21)
    for n in (3, 10):
        samples = rng.normal(0.7, 0.05, size=(4000, n))
        covered = 0
        for v in samples:
            low, high = statistics.t_interval(v)
            covered += low <= 0.7 <= high
        assert abs(covered / 4000 - 0.95) < 0.012, (n, covered / 4000)  # 3.5 binomial sds
    assert statistics.t_interval([1.0, 2.0, 3.0]) == pytest.approx((2 - 4.302652729749464 / np.sqrt(3),
                                                                   2 + 4.302652729749464 / np.sqrt(3)))
    assert statistics.t_interval([0.7, 0.7]) == (0.7, 0.7) and np.isnan(statistics.t_interval([0.7])[0])


def test_differences_equal_in_exact_arithmetic_are_ties_and_zeros():
    """Accuracies are k/602: (k + 7)/602 - k/602 and 7/602 - 0 are equal but differ in floating point
    (seen in a real study); they must share a rank, and x - y of equal accuracies computed two ways is 0."""
    a, b = (500 + 7) / 602 - 500 / 602, 7 / 602 - 0.0
    assert a != b  # the floating-point difference the test is about
    assert statistics.signed_rank_test([a, -b, 9 / 602]) == statistics.signed_rank_test([b, -b, 9 / 602])
    # |d| ranks 1.5, 1.5, 3 (the second negative): T+ = 4.5, E = 3; of the 8 sign flips' T+ (0, 1.5, 1.5, 3, 3,
    # 4.5, 4.5, 6) six lie 1.5 or more from E: p = 0.75. Ranked 2 and 1 apart, T+ = 5 and p = 4/8.
    assert statistics.signed_rank_test([a, -b, 9 / 602])["p"] == 0.75
    assert 0.1 + 0.2 - 0.3 != 0 and statistics.paired_share([0.1 + 0.2], [0.3]) == 0.5
    assert statistics.signed_rank_test([0.1 + 0.2 - 0.3, 1.0])["n_nonzero"] == 1


def test_paired_share_and_unpaired_a12_differ_where_repetitions_differ():
    # two repetitions far apart; the metric beats random in 3 of 4 repetitions by a little
    x, y = [0.80, 0.81, 0.90, 0.89], [0.79, 0.80, 0.89, 0.90]
    assert statistics.paired_share(x, y) == 0.75
    assert statistics.a12(x, y) == 9.5 / 16  # every value against every other: 1.5 + 2 + 3.5 + 2.5 wins of 16
    assert statistics.paired_share([1, 2], [1, 1]) == 0.75  # a tie counts half


def test_repetitions_for_power_with_scipys_noncentral_t():
    # effect size 1 (mean 1, sd 1): the paired t-test needs 10 pairs for 80% power at two-sided 0.05
    # (Cohen's tables; G*Power gives 10 for dz = 1)
    assert statistics.repetitions_for_power([0.0, 1.0, 2.0]) == 10
    d = np.array([0.0, 2.0])  # mean 1, sd sqrt(2): effect 0.707 -> 18 pairs
    assert statistics.repetitions_for_power(d) == 18
    d = np.array([-0.2247448714, 1.0, 2.2247448714])  # mean 1, sd 1.2247: effect 0.8165 -> 14
    n = statistics.repetitions_for_power(d)

    def power(n, effect):
        crit = scipy_stats.t.ppf(0.975, n - 1)
        nc = effect * np.sqrt(n)
        return scipy_stats.nct.sf(crit, n - 1, nc) + scipy_stats.nct.cdf(-crit, n - 1, nc)

    effect = d.mean() / d.std(ddof=1)
    assert power(n, effect) >= 0.8 > power(n - 1, effect)
    assert statistics.repetitions_for_power([0.1, 0.1, 0.1]) == 2  # no spread: the smallest paired test
    assert np.isnan(statistics.repetitions_for_power([0.1, -0.1]))  # no observed difference
    assert statistics.repetitions_for_power([1e-6, -1e-6, 2e-6]) == 44  # scale-free: the effect size counts
    assert statistics.repetitions_for_power([0.01, -0.01, 0.0101], max_n=50) == float("inf")


def test_holm_correction_by_hand():
    np.testing.assert_allclose(statistics.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    out = statistics.holm([0.02, np.nan, 0.5])
    assert out[0] == pytest.approx(0.04) and np.isnan(out[1]) and out[2] == 0.5


def test_normalised_auc_by_hand():
    # u/T = 0.25, 0.5, 1: trapezoids 0.25 * 0.6 + 0.5 * 0.8 = 0.55 over a span of 0.75
    assert statistics.normalised_auc([1, 2, 4], [0.5, 0.7, 0.9], 4) == pytest.approx(0.55 / 0.75)
    assert statistics.normalised_auc([4, 1, 2], [0.9, 0.5, 0.7], 4) == pytest.approx(0.55 / 0.75)


def _points(n_reps, gap, budget_gap=None):
    """Two metrics over ``n_reps`` repetitions; ``good`` is ``gap`` better than random at every point and
    ``budget_gap`` (default ``gap``) at the budget point f0.5."""
    rows = []
    for rep in range(1, n_reps + 1):
        for metric, bonus in (("good", gap), ("random", 0.0)):
            for point, used in (("p1", 50), ("p2", 100), ("f0.5", 50)):
                extra = (gap if budget_gap is None else budget_gap) if point == "f0.5" and metric == "good" else bonus
                acc = 0.7 + 0.01 * rep + 0.05 * (used / 50) + extra
                rows.append({"dataset": "d", "attack": "a", "rep": rep, "configuration": "C2", "metric": metric,
                             "point": point, "inputs_used": used, "inputs_total": 100, "acc_test_star": acc,
                             "acc_test": acc, "acc_adv_test": acc, "acc_val_star": acc, "adversarial_used": 0})
    return tables.points_frame(rows)


def test_endpoints_pairs_and_statistics_table():
    points = _points(6, 0.1, budget_gap=0.0)
    values = statistics.endpoint_values(points, tables.best_points(points))
    assert list(dict.fromkeys(values.endpoint)) == ["best", "auc", "budget_f0.5"]
    assert values[values.endpoint == "best"]["inputs_used"].tolist() == [100] * 12  # budget points not chosen
    pairs = statistics.pairs(values)
    good = pairs[(pairs.metric == "good") & (pairs.endpoint == "best")].iloc[0]
    assert (good.n, good.n_nonzero, good.paired_share, good.a12_unpaired) == (6, 6, 1.0, 1.0)
    assert good.diff_mean == pytest.approx(0.1) and good.diff_ci_low == pytest.approx(0.1)  # no spread
    assert good.p == 2 / 2 ** 6 and good.p_holm == good.p and good.significant and good.note == ""
    mirror = pairs[(pairs.metric == "random") & (pairs.endpoint == "best")].iloc[0]
    assert mirror.diff_mean == pytest.approx(-0.1) and mirror.paired_share == 0.0 and mirror.p == good.p
    budget = pairs[(pairs.metric == "good") & (pairs.endpoint == "budget_f0.5")].iloc[0]
    assert (budget.n, budget.n_nonzero, budget.p, budget.paired_share) == (6, 0, 1.0, 0.5)
    assert budget.note == "all 6 pairs equal: no difference to test" and np.isnan(budget.reps_for_80_power)
    table = statistics.statistics_table(statistics.summary(values), pairs)
    row = table[(table.metric == "good") & (table.endpoint == "best")].iloc[0]
    assert row["mean"] == pytest.approx(0.7 + 0.035 + 0.1 + 0.1) and row.n == 6 and row.n_nonzero == 6
    auc = table[(table.metric == "good") & (table.endpoint == "auc")].iloc[0]
    assert auc["mean"] == pytest.approx(row["mean"] - 0.025)  # the mean of the 2 points
    base = table[(table.metric == "random") & (table.endpoint == "best")].iloc[0]
    assert base.n == 6 and pd.isna(base.n_nonzero) and base.note == ""
    md = statistics.statistics_markdown(table)
    versus = md.columns[-1]
    assert "p_holm 0.0312 *" in md.iloc[0][versus] and "paired share 1.00; 6/6 non-zero" in md.iloc[0][versus]
    assert md[md.endpoint == "budget_f0.5"].iloc[0][versus].endswith("all pairs equal")


def test_too_few_non_zero_pairs_are_flagged_by_n_nonzero():
    points = _points(6, 0.02)
    # repetitions 1-3 equal: 3 non-zero pairs of 6
    points.loc[(points.metric == "good") & (points.rep <= 3), "acc_test_star"] -= 0.02
    values = statistics.endpoint_values(points, tables.best_points(points))
    pairs = statistics.pairs(values)
    best = pairs[(pairs.endpoint == "best") & (pairs.metric == "good")].iloc[0]
    assert (best.n, best.n_nonzero, best.p) == (6, 3, 0.25) and not best.significant
    assert best.note.startswith("n_nonzero=3 of n=6: the smallest reachable p is 0.25")


def test_probabilities_from_logits_keep_confident_inputs_distinct():
    import torch

    logits = np.array([[20.0, 0, 0], [25.0, 0, 0], [0.0, 0, 0]], dtype=np.float32)
    float32 = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    old_gini = 1.0 - (float32.astype(np.float64) ** 2).sum(axis=1)
    assert float32[0, 0] == 1.0 and old_gini[0] == 0.0  # the old way: p_top rounds to 1, score 0
    probs = uncertainty.probabilities(logits)
    rest = 2 * np.exp(-20.0) / (1 + 2 * np.exp(-20.0))
    for metric in (uncertainty.deepgini, uncertainty.softmax_entropy, uncertainty.least_confidence):
        scores = metric(probs)
        assert scores[0] > scores[1] > 0 and scores[2] == pytest.approx(metric(np.full((1, 3), 1 / 3))[0])
    assert uncertainty.least_confidence(probs)[0] == pytest.approx(rest, rel=1e-12)
    assert uncertainty.deepgini(probs)[0] == pytest.approx(1 - (1 - rest) ** 2 - 2 * (rest / 2) ** 2, rel=1e-9)
    assert 1 - uncertainty.margin(probs)[0] > 0


def test_against_random_the_holm_family_is_the_comparisons_with_random():
    points = pd.concat([_points(8, 0.1), _points(8, 0.1).query("metric == 'good'").assign(metric="other")])
    values = statistics.endpoint_values(points, tables.best_points(points))
    pairs = statistics.pairs(values)
    assert len(pairs) == 6 * 3 and (pairs.p_holm >= pairs.p).all()  # 3 endpoints
    best = pairs[pairs.endpoint == "best"]
    good = best[(best.metric == "good") & (best.other == "random")].iloc[0]
    assert good.p_holm == pytest.approx(3 * 2 / 2 ** 8)  # all 3 pairs
    table = statistics.statistics_table(statistics.summary(values), pairs)
    row = table[(table.metric == "good") & (table.endpoint == "best")].iloc[0]
    assert row.p == pytest.approx(2 / 2 ** 8)
    assert row.p_holm == pytest.approx(2 * 2 / 2 ** 8) and row.significant  # 2 tests vs random


def test_figures_are_byte_identical_across_renderings(tmp_path):
    import time

    from guided_retraining import plots

    points = pd.concat([_points(4, 0.05), _points(4, 0.05).query("metric == 'good'").assign(metric="other")])
    values = statistics.endpoint_values(points, tables.best_points(points))
    pairs = statistics.pairs(values)
    summary = statistics.summary(values)
    against = pairs[(pairs.other == "random") & pairs.endpoint.str.startswith("budget_")].merge(
        summary[statistics.ENDPOINT_GROUP + ["metric", "inputs_used_mean"]], on=statistics.ENDPOINT_GROUP + ["metric"])
    files = []
    for run in (1, 2):
        paths = {name: [tmp_path / f"{name}{run}.{ext}" for ext in ("png", "pdf")] for name in ("b", "s", "f")}
        plots.budget_differences(against, "budgets", paths["b"])
        plots.paired_share_heatmap(pairs[pairs.endpoint == "best"], "share", paths["s"])
        plots.figure3(points, 0.6, "figure 3", paths["f"], tables.best_points(points))
        files.append([p.read_bytes() for name in sorted(paths) for p in paths[name]])
        time.sleep(1.1)  # a creation date in seconds would differ
    assert files[0] == files[1]
