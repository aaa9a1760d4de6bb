"""Comparisons between metrics over repetitions: summaries, paired tests and effect sizes.

A study's differences between metrics are often smaller than the spread between identical
training runs of one CNN (Pham et al., "Problems and opportunities in training deep learning
software systems: an analysis of variance", ASE 2020), so a claim that a metric beats another
needs repetitions (config ``repetitions``) and the statistics here, computed per dataset,
attack and configuration over the repetitions' selected points (:func:`tables.best_points`):

- mean, standard deviation and a 95% bootstrap confidence interval (``scipy.stats.bootstrap``,
  percentile method, seeded) of the selected point's Test* accuracy, of the inputs used there and
  of the normalised area under the accuracy-vs-inputs curve (:func:`normalised_auc`);
- for every pair of metrics, the paired Wilcoxon signed-rank test (``scipy.stats.wilcoxon``,
  two-sided; pairs = repetitions, which share split, original model and seeds) with the p-values
  Holm-corrected within a dataset, attack and configuration (:func:`holm`; family: every pair in
  :func:`pairs`, the comparisons against random in :func:`statistics_table`), and the
  Vargha-Delaney A12 effect size (:func:`a12`) with its magnitude (:func:`a12_magnitude`).

With n repetitions and no ties the smallest two-sided Wilcoxon p-value is 2 / 2**n
(:func:`min_wilcoxon_p`): 0.125 for n = 4, 0.0625 for n = 5, so with 5 or fewer repetitions no
difference can reach p < 0.05, and the tables say so instead of printing p-values. Holm over m
tests multiplies the smallest p by m: m * 2 / 2**n < 0.05 needs n >= 8 for the 5 comparisons of 6
metrics against random and n >= 10 for their 15 pairs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

GROUP = ["dataset", "attack", "configuration"]
ALPHA = 0.05


def a12(x, y) -> float:
    """Vargha-Delaney A12 = P(X > Y) + 0.5 P(X = Y) over all pairs of a value of ``x`` and one of ``y``
    (Vargha & Delaney 2000, "A critique and improvement of the CL common language effect size
    statistics of McGraw and Wong"). 0.5: no difference; 1: every x above every y."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not len(x) or not len(y):
        return float("nan")
    diff = x[:, None] - y[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def a12_magnitude(a: float) -> str:
    """Vargha & Delaney's thresholds on |A12 - 0.5|: < 0.06 negligible, < 0.14 small, < 0.21 medium,
    else large (A12 of 0.56, 0.64 and 0.71 and their mirror images)."""
    if np.isnan(a):
        return ""
    d = round(abs(a - 0.5), 12)  # 0.71 - 0.5 is 0.20999999999999996 in floating point
    return "negligible" if d < 0.06 else "small" if d < 0.14 else "medium" if d < 0.21 else "large"


def bootstrap_ci(values, seed: int, confidence: float = 0.95, n_resamples: int = 9999) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean (``scipy.stats.bootstrap``, seeded).

    NaN with fewer than 2 values; ``(v, v)`` when every value is ``v``.
    """
    from scipy.stats import bootstrap

    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float("nan"), float("nan")
    if np.all(v == v[0]):
        return float(v[0]), float(v[0])
    res = bootstrap((v,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                    random_state=np.random.default_rng(int(seed)))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def min_wilcoxon_p(n: int) -> float:
    """The smallest two-sided p-value of the exact Wilcoxon signed-rank test with ``n`` pairs: 2 / 2**n."""
    return min(1.0, 2.0 / 2.0 ** n) if n > 0 else 1.0


def wilcoxon_p(x, y) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value of ``x`` against ``y`` (``scipy.stats.wilcoxon``);
    1.0 when every pair is equal (no evidence of a difference), NaN with fewer than 2 pairs."""
    from scipy.stats import wilcoxon

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"paired samples of different sizes: {len(x)} and {len(y)}")
    if len(x) < 2:
        return float("nan")
    if np.all(x == y):
        return 1.0
    return float(wilcoxon(x, y).pvalue)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down correction (Holm 1979): the i-th smallest of m p-values becomes
    ``max_{j <= i} min(1, (m - j + 1) p_(j))``; NaN stays NaN and does not count in m."""
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def normalised_auc(inputs_used, accuracy, inputs_total: int) -> float:
    """Area under the piecewise-linear curve of accuracy against the share of inputs used (u / T),
    divided by the share it spans: the curve's mean accuracy, in [0, 1], threshold-free."""
    x = np.asarray(inputs_used, dtype=np.float64) / float(inputs_total)
    y = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(x) == 1 or x[-1] == x[0]:
        return float(y.mean())
    return float(np.trapezoid(y, x) / (x[-1] - x[0]))


def per_repetition(points: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, attack, rep, configuration, metric): the selected point's Test* accuracy
    (``acc``), inputs used there (``inputs_used``) and the normalised AUC of the curve (``auc``)."""
    from .tables import KEYS as keys

    regular = points[points["point"] != "atc3"]
    auc = {key: normalised_auc(g["inputs_used"], g["acc_test_star"], int(g["inputs_total"].max()))
           for key, g in regular.groupby(keys, sort=True)}
    rows = [{**{k: b[k] for k in keys}, "acc": float(b["acc_test_star"]), "inputs_used": int(b["inputs_used"]),
             "auc": auc[tuple(b[k] for k in keys)]} for b in best.to_dict("records")]
    return pd.DataFrame(rows, columns=keys + ["acc", "inputs_used", "auc"])


def summary(reps: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per dataset, attack, configuration and metric: n, and mean, sd, 95% CI (bootstrap) of ``acc``,
    ``inputs_used`` and ``auc`` over the repetitions."""
    from .seeding import derive_seed

    rows = []
    for key, g in reps.groupby(GROUP + ["metric"], sort=True):
        row = dict(zip(GROUP + ["metric"], key), n=len(g))
        for col in ("acc", "inputs_used", "auc"):
            v = g[col].to_numpy(dtype=np.float64)
            low, high = bootstrap_ci(v, derive_seed(seed, *key, col, "bootstrap"))
            row.update({f"{col}_mean": v.mean(), f"{col}_sd": v.std(ddof=1) if len(v) > 1 else float("nan"),
                        f"{col}_ci_low": low, f"{col}_ci_high": high})
        rows.append(row)
    cols = GROUP + ["metric", "n"] + [f"{c}_{s}" for c in ("acc", "inputs_used", "auc")
                                      for s in ("mean", "sd", "ci_low", "ci_high")]
    return pd.DataFrame(rows, columns=cols)


def pairs(reps: pd.DataFrame, value: str = "acc") -> pd.DataFrame:
    """Every ordered pair (metric, other) of metrics within a dataset, attack and configuration: the
    paired Wilcoxon p-value of ``value`` over the repetitions both have, Holm-corrected over the
    group's unordered pairs (``p_holm``), ``significant`` (p_holm < 0.05), A12 of metric against other
    with its magnitude, and ``note`` when the repetitions are too few for p < 0.05."""
    rows = []
    for key, g in reps.groupby(GROUP, sort=True):
        wide = g.pivot_table(index="rep", columns="metric", values=value, aggfunc="first")
        metrics = list(wide.columns)
        tests = {}
        for a, b in itertools.combinations(metrics, 2):
            both = wide[[a, b]].dropna()
            tests[a, b] = (len(both), wilcoxon_p(both[a], both[b]))
        unordered = list(tests)
        corrected = dict(zip(unordered, holm([tests[k][1] for k in unordered])))
        for a, b in itertools.permutations(metrics, 2):
            k = (a, b) if (a, b) in tests else (b, a)
            n, p = tests[k]
            both = wide[[a, b]].dropna()
            effect = a12(both[a], both[b])
            too_few = min_wilcoxon_p(n) >= ALPHA
            rows.append({**dict(zip(GROUP, key)), "metric": a, "other": b, "n": n,
                         "p": float("nan") if too_few else p, "p_holm": float("nan") if too_few else corrected[k],
                         "significant": bool(not too_few and corrected[k] < ALPHA), "a12": effect,
                         "magnitude": a12_magnitude(effect),
                         "note": (f"n={n}: the smallest possible p is {min_wilcoxon_p(n):.3g}, so p < 0.05 cannot be"
                                  f" reached; run more repetitions") if too_few else ""})
    return pd.DataFrame(rows, columns=GROUP + ["metric", "other", "n", "p", "p_holm", "significant", "a12",
                                               "magnitude", "note"])


def statistics_table(summary_frame: pd.DataFrame, pair_frame: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """The summary with each metric's comparison against ``baseline`` (columns ``*_vs_random``).

    Here the Holm family is the comparisons against the baseline within a dataset, attack and
    configuration (k - 1 tests for k metrics: "is a metric better than random?"), not every pair as
    in :func:`pairs`, so that the question the table answers is not diluted by the others.
    """
    against = pair_frame[pair_frame["other"] == baseline][GROUP + ["metric", "p", "p_holm", "significant", "a12",
                                                                   "magnitude", "note"]].copy()
    against["p_holm"] = against.groupby(GROUP, sort=False)["p"].transform(lambda p: holm(p.to_numpy()))
    against["significant"] = against["p_holm"] < ALPHA
    against = against.rename(columns={c: f"{c}_vs_{baseline}" for c in ("p", "p_holm", "significant", "a12",
                                                                       "magnitude", "note")})
    return summary_frame.merge(against, on=GROUP + ["metric"], how="left")


def statistics_markdown(stats: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """The statistics table in a readable layout: cells ``mean ± sd [CI low, high]``, and against
    ``baseline`` ``A12 (magnitude), p_holm`` or why no p-value is given."""
    if stats.empty:
        return pd.DataFrame()

    def cell(r, col, fmt):
        return (f"{r[f'{col}_mean']:{fmt}} ± {r[f'{col}_sd']:{fmt}} "
                f"[{r[f'{col}_ci_low']:{fmt}}, {r[f'{col}_ci_high']:{fmt}}]")

    def versus(r):
        if r["metric"] == baseline or pd.isna(r.get(f"a12_vs_{baseline}")):
            return ""
        effect = f"A12 {r[f'a12_vs_{baseline}']:.2f} ({r[f'magnitude_vs_{baseline}']})"
        if r[f"note_vs_{baseline}"]:
            return f"{effect}; p < 0.05 unreachable with n={r['n']}"
        star = " *" if r[f"significant_vs_{baseline}"] else ""
        return f"{effect}; p_holm {r[f'p_holm_vs_{baseline}']:.3g}{star}"

    rows = [{**{k: r[k] for k in GROUP + ["metric", "n"]}, "Test* acc at best point": cell(r, "acc", ".4f"),
             "inputs used": cell(r, "inputs_used", ".0f"), "normalised AUC": cell(r, "auc", ".4f"),
             f"vs {baseline}": versus(r)} for r in stats.to_dict("records")]
    return pd.DataFrame(rows)
