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


def test_bootstrap_ci_on_hand_made_samples():
    # three values: P(resample mean = 1) = 1/27 > 2.5%, so the percentile interval is exactly [1, 3]
    assert statistics.bootstrap_ci([1.0, 2.0, 3.0], seed=0) == (1.0, 3.0)
    assert statistics.bootstrap_ci([0.7, 0.7, 0.7], seed=0) == (0.7, 0.7)
    assert np.isnan(statistics.bootstrap_ci([0.7], seed=0)[0])
    low, high = statistics.bootstrap_ci(np.arange(100.0), seed=1)  # normal theory: 49.5 +- 1.96 * 2.87
    assert low == pytest.approx(49.5 - 1.96 * np.arange(100.0).std() / 10, abs=0.6)
    assert high == pytest.approx(49.5 + 1.96 * np.arange(100.0).std() / 10, abs=0.6)
    assert statistics.bootstrap_ci(np.arange(100.0), seed=1) == (low, high)  # seeded


def test_wilcoxon_is_scipys_and_too_few_repetitions_are_flagged():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0.8, 0.01, 12), rng.normal(0.79, 0.01, 12)
    assert statistics.wilcoxon_p(x, y) == scipy_stats.wilcoxon(x, y).pvalue
    assert statistics.wilcoxon_p(np.arange(8) + 1.0, np.zeros(8)) == pytest.approx(2 / 2 ** 8)  # exact, all positive
    assert statistics.wilcoxon_p([0.5, 0.6], [0.5, 0.6]) == 1.0
    assert [statistics.min_wilcoxon_p(n) for n in (4, 5, 6)] == [0.125, 0.0625, 0.03125]


def test_holm_correction_by_hand():
    np.testing.assert_allclose(statistics.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    out = statistics.holm([0.02, np.nan, 0.5])
    assert out[0] == pytest.approx(0.04) and np.isnan(out[1]) and out[2] == 0.5


def test_normalised_auc_by_hand():
    # u/T = 0.25, 0.5, 1: trapezoids 0.25 * 0.6 + 0.5 * 0.8 = 0.55 over a span of 0.75
    assert statistics.normalised_auc([1, 2, 4], [0.5, 0.7, 0.9], 4) == pytest.approx(0.55 / 0.75)
    assert statistics.normalised_auc([4, 1, 2], [0.9, 0.5, 0.7], 4) == pytest.approx(0.55 / 0.75)


def _points(n_reps, gap):
    """Two metrics over ``n_reps`` repetitions; ``good`` is ``gap`` better than random at every point."""
    rows = []
    for rep in range(1, n_reps + 1):
        for metric, bonus in (("good", gap), ("random", 0.0)):
            for k, used in ((1, 50), (2, 100)):
                acc = 0.7 + 0.01 * rep + 0.05 * k + bonus
                rows.append({"dataset": "d", "attack": "a", "rep": rep, "configuration": "C2", "metric": metric,
                             "point": f"p{k}", "inputs_used": used, "inputs_total": 100, "acc_test_star": acc,
                             "acc_test": acc, "acc_adv_test": acc, "acc_val_star": acc, "adversarial_used": 0})
    return tables.points_frame(rows)


def test_pairs_and_statistics_table():
    points = _points(6, 0.1)
    reps = statistics.per_repetition(points, tables.best_points(points))
    assert reps["inputs_used"].tolist() == [100] * 12
    pairs = statistics.pairs(reps)
    good = pairs[pairs.metric == "good"].iloc[0]
    assert (good.n, good.a12, good.magnitude) == (6, 1.0, "large")
    assert good.p == pytest.approx(scipy_stats.wilcoxon(reps[reps.metric == "good"].acc.to_numpy(),
                                                        reps[reps.metric == "random"].acc.to_numpy()).pvalue)
    assert good.p_holm == good.p and good.significant and good.note == ""  # one pair: Holm changes nothing
    table = statistics.statistics_table(statistics.summary(reps, seed=0), pairs)
    row = table[table.metric == "good"].iloc[0]
    assert row.acc_mean == pytest.approx(0.7 + 0.035 + 0.1 + 0.1) and row.a12_vs_random == 1.0
    assert row.auc_mean == pytest.approx(row.acc_mean - 0.025)  # the mean of the 2 points
    assert "p_holm 0.0312 *" in statistics.statistics_markdown(table).iloc[0]["vs random"]


def test_too_few_repetitions_give_no_p_values():
    points = _points(4, 0.02)
    pairs = statistics.pairs(statistics.per_repetition(points, tables.best_points(points)))
    assert pairs["p"].isna().all() and not pairs["significant"].any()
    assert pairs.iloc[0].note.startswith("n=4: the smallest possible p is 0.125")


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
    reps = statistics.per_repetition(points, tables.best_points(points))
    pairs = statistics.pairs(reps)
    assert len(pairs) == 6 and (pairs.p_holm >= pairs.p).all()
    table = statistics.statistics_table(statistics.summary(reps, seed=0), pairs)
    row = table[table.metric == "good"].iloc[0]
    assert row.p_vs_random == pytest.approx(2 / 2 ** 8)
    assert row.p_holm_vs_random == pytest.approx(2 * 2 / 2 ** 8) and row.significant_vs_random  # 2 tests vs random
