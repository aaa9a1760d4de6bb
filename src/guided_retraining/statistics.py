"""Comparisons between metrics over repetitions: paired differences, exact signed-rank tests, power.

A study's differences between metrics are often smaller than the spread between identical
training runs of one CNN (Pham et al., "Problems and opportunities in training deep learning
software systems: an analysis of variance", ASE 2020), so a claim that a metric beats another
needs repetitions (config ``repetitions``) and paired statistics. Repetitions are the pairs: within
one repetition every metric shares split, original model, initial weights and batches.

Endpoints (:func:`endpoint_values`), per dataset, attack, configuration and repetition:

- ``best``: Test* accuracy at the best data point (chosen on Val*, :func:`tables.best_points`);
- ``auc``: the normalised area under the accuracy-vs-inputs curve (:func:`normalised_auc`);
- ``budget_<point>``: Test* accuracy at a fixed budget (``aggregate.budgets``: each budget is a
  retraining point of its own, so every metric trains on exactly the same number of inputs).

Per endpoint and metric (:func:`summary`): mean, sd and the 95% Student t-interval of the mean
(:func:`t_interval`). Per endpoint and pair of metrics (:func:`pairs`), on the paired differences
d_r = x_r - y_r over the repetitions r both have:

- the mean paired difference with its 95% t-interval (nominal coverage at any n for normal
  differences; a percentile bootstrap covers far less at small n: at n = 3 its interval is the range
  of the 3 values, which covers the mean 1 - 2 / 2**3 = 75% of the time);
- the **paired share** (:func:`paired_share`): the share of repetitions where the metric beats the
  other, ties counting half;
- ``n`` (pairs) and ``n_nonzero`` (pairs with d_r != 0), the exact two-sided Wilcoxon signed-rank
  p-value (:func:`signed_rank_test`: zeros dropped, ties at average ranks, exact sign-flip
  distribution up to 50 non-zero pairs) and Holm's correction (:func:`holm`) within a dataset,
  attack, configuration and endpoint (family: every pair in :func:`pairs`; the comparisons against
  random in :func:`statistics_table`);
- the unpaired Vargha-Delaney A12 (:func:`a12`, every value of one against every value of the
  other, labelled ``a12_unpaired``);
- the repetitions a paired t-test needs for 80% power at two-sided 0.05 to detect the observed
  mean difference given the observed sd (:func:`repetitions_for_power`).

With m non-zero pairs the smallest two-sided signed-rank p is 2 / 2**m (:func:`min_wilcoxon_p`):
p < 0.05 needs m >= 6; Holm over k tests multiplies the smallest p by k: 5 comparisons with random
need m >= 8, 15 pairs m >= 10.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

GROUP = ["dataset", "attack", "configuration"]
ENDPOINT_GROUP = GROUP + ["endpoint"]
ALPHA = 0.05
EXACT_MAX = 50  # non-zero pairs up to which the signed-rank distribution is enumerated exactly
DECIMALS = 12  # paired differences are compared (zeros, signs, ties) after rounding to this many decimals


def a12(x, y) -> float:
    """Unpaired Vargha-Delaney A12 = P(X > Y) + 0.5 P(X = Y) over all pairs of a value of ``x`` and one of
    ``y`` (Vargha & Delaney 2000, "A critique and improvement of the CL common language effect size
    statistics of McGraw and Wong"). 0.5: no difference; 1: every x above every y. It ignores the pairing
    of repetitions (see :func:`paired_share` for the paired measure)."""
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


def comparable(differences) -> np.ndarray:
    """Paired differences rounded to ``DECIMALS`` decimals, for finding zeros, signs and ties only.

    Accuracies are counts over a fixed number of inputs (k/602), so two differences that are equal in
    exact arithmetic (7/602 - 0 and (k + 7)/602 - k/602) may differ in floating point by ~1e-16; ranked
    as they are, they would get ranks 2 and 3 instead of 2.5 each and the signed-rank p would move.
    Rounding to 12 decimals makes them equal again while keeping apart any two differences that a
    study can tell apart (test sets below 10**12 inputs)."""
    return np.round(np.asarray(differences, dtype=np.float64), DECIMALS)


def paired_share(x, y) -> float:
    """Share of the pairs (x_r, y_r) with x_r > y_r, ties counting half: the paired counterpart of A12.
    NaN without pairs. Signs and ties from :func:`comparable` differences."""
    d = comparable(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    if not len(d):
        return float("nan")
    return float(((d > 0).sum() + 0.5 * (d == 0).sum()) / len(d))


def t_interval(values, confidence: float = 0.95) -> tuple[float, float]:
    """Student t confidence interval of the mean: mean ± t_{(1+c)/2, n-1} · sd / sqrt(n)
    (``scipy.stats.t``). Exact coverage for normal data at every n >= 2; NaN below 2 values,
    ``(v, v)`` when every value is ``v``."""
    from scipy.stats import t as student

    v = np.asarray(values, dtype=np.float64)
    if len(v) < 2:
        return float("nan"), float("nan")
    mean, sd = float(v.mean()), float(v.std(ddof=1))
    if sd == 0:
        return mean, mean
    half = float(student.ppf((1 + confidence) / 2, len(v) - 1)) * sd / np.sqrt(len(v))
    return float(mean - half), float(mean + half)


def min_wilcoxon_p(n_nonzero: int) -> float:
    """The smallest two-sided exact signed-rank p with ``n_nonzero`` non-zero pairs: 2 / 2**n_nonzero
    (every difference of one sign; the largest rank sum is unique, ties or not)."""
    return min(1.0, 2.0 / 2.0 ** n_nonzero) if n_nonzero > 0 else 1.0


def signed_rank_test(differences) -> dict:
    """Two-sided Wilcoxon signed-rank test of paired differences against 0, computed here so that every
    SciPy version gives the same p.

    Zeros are dropped before ranking (Wilcoxon's own way, SciPy's ``zero_method='wilcox'``); tied |d|
    get average ranks (``scipy.stats.rankdata``); zeros and ties are found on the :func:`comparable`
    (rounded) differences, so floating-point error does not break a tie. T+ is the sum of the ranks of the positive
    differences. Under H0 every sign is + or - with probability 1/2 independently, so with m non-zero
    pairs p = P(|T+ - E| >= |t+ - E|), E = sum(ranks) / 2, over the 2**m sign flips, counted exactly
    by dynamic programming over the doubled (integer) ranks for m <= 50 (``method='exact'``). Beyond,
    the normal approximation z = (t+ - E) / sqrt(sum(ranks²) / 4) (variance with ties, no continuity
    correction; ``method='normal'``). All pairs equal (m = 0): p = 1.

    Returns ``n``, ``n_nonzero``, ``statistic`` (t+), ``p`` and ``method``.
    """
    from scipy.stats import norm, rankdata

    d = comparable(differences)
    nonzero = d[d != 0]
    m = len(nonzero)
    out = {"n": len(d), "n_nonzero": m, "statistic": 0.0, "p": 1.0, "method": "exact"}
    if m == 0:
        return out
    ranks2 = np.rint(2 * rankdata(np.abs(nonzero))).astype(np.int64)  # average ranks are multiples of 1/2
    t2, total2 = int(ranks2[nonzero > 0].sum()), int(ranks2.sum())
    out["statistic"] = t2 / 2
    if m <= EXACT_MAX:
        counts = np.zeros(total2 + 1, dtype=np.float64)  # ways to reach each doubled T+; exact below 2**53
        counts[0] = 1
        for r in ranks2:
            shifted = np.zeros_like(counts)
            shifted[r:] = counts[:-r]
            counts = counts + shifted
        sums = np.arange(total2 + 1)
        extreme = np.abs(2 * sums - total2) >= abs(2 * t2 - total2)
        out["p"] = float(min(1.0, counts[extreme].sum() / 2.0 ** m))
    else:
        z = (t2 - total2 / 2) / 2 / np.sqrt((ranks2.astype(np.float64) ** 2).sum() / 16)
        out.update(p=float(min(1.0, 2 * norm.sf(abs(z)))), method="normal")
    return out


def repetitions_for_power(differences, power: float = 0.8, alpha: float = ALPHA, max_n: int = 100_000) -> float:
    """Repetitions a two-sided paired t-test at level ``alpha`` needs to detect the observed mean paired
    difference with ``power``, taking the observed sd as the truth: the smallest n >= 2 with
    P(|T| > t_{1-alpha/2, n-1}) >= power, T noncentral t with n - 1 degrees of freedom and noncentrality
    mean / sd · sqrt(n) (``scipy.stats.nct``). NaN with fewer than 2 differences or a zero mean
    (no difference observed); 2 when every difference is the same non-zero value; inf beyond ``max_n``."""
    from scipy.stats import nct
    from scipy.stats import t as student

    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2 or d.mean() == 0:
        return float("nan")
    sd = d.std(ddof=1)
    if sd == 0:
        return 2.0
    effect = abs(d.mean()) / sd

    def achieved(n):
        df, crit = n - 1, student.ppf(1 - alpha / 2, n - 1)
        nc = effect * np.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):  # SciPy 1.11's boost nct warns far in the tails
            return nct.sf(crit, df, nc) + nct.cdf(-crit, df, nc)

    if achieved(max_n) < power:
        return float("inf")
    low, high = 1, 2  # achieved(low) < power <= achieved(high); power grows with n
    while achieved(high) < power:
        low, high = high, min(2 * high, max_n)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if achieved(mid) < power else (low, mid)
    return float(high)


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
    """Area under the piecewise-linear curve of accuracy against the share of inputs used (u / T)
    (trapezoidal rule), divided by the share it spans: the curve's mean accuracy, in [0, 1]."""
    x = np.asarray(inputs_used, dtype=np.float64) / float(inputs_total)
    y = np.asarray(accuracy, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    if len(x) == 1 or x[-1] == x[0]:
        return float(y.mean())
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2) / (x[-1] - x[0]))


def endpoint_order(endpoints) -> list[str]:
    """``best``, ``auc``, then the budget endpoints by kind (fractions, counts) and size."""
    from .retraining import parse_budget

    def key(e):
        if e in ("best", "auc"):
            return (0, ("best", "auc").index(e), 0.0)
        kind, value = parse_budget(e.removeprefix("budget_"))
        return (1 if kind == "fraction" else 2, 0, float(value))

    return sorted(set(endpoints), key=key)


def endpoint_values(points: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, attack, rep, configuration, metric, endpoint): ``value`` and ``inputs_used``.

    Endpoints: ``best`` (Test* accuracy at the selected point ``best``), ``auc`` (normalised AUC of the
    regular points' curve; inputs_used: the largest point's) and ``budget_<point>`` (Test* accuracy at
    each budget point)."""
    from .tables import KEYS as keys
    from .retraining import is_budget, is_regular

    cols = keys + ["endpoint", "value", "inputs_used"]
    rows = [{**{k: b[k] for k in keys}, "endpoint": "best", "value": float(b["acc_test_star"]),
             "inputs_used": int(b["inputs_used"])} for b in best.to_dict("records")]
    regular = points[points["point"].map(is_regular)]
    for key, g in regular.groupby(keys, sort=True):
        rows.append({**dict(zip(keys, key)), "endpoint": "auc", "inputs_used": int(g["inputs_used"].max()),
                     "value": normalised_auc(g["inputs_used"], g["acc_test_star"], int(g["inputs_total"].max()))})
    for r in points[points["point"].map(is_budget)].to_dict("records"):
        rows.append({**{k: r[k] for k in keys}, "endpoint": f"budget_{r['point']}", "value": float(r["acc_test_star"]),
                     "inputs_used": int(r["inputs_used"])})
    frame = pd.DataFrame(rows, columns=cols)
    if frame.empty:
        return frame
    frame["endpoint"] = pd.Categorical(frame["endpoint"], endpoint_order(frame["endpoint"]), ordered=True)
    frame = frame.sort_values(GROUP + ["endpoint", "metric", "rep"], kind="stable").reset_index(drop=True)
    frame["endpoint"] = frame["endpoint"].astype(str)
    return frame


def _groups(frame: pd.DataFrame, by):
    """``groupby`` in the endpoint order of :func:`endpoint_order`, not alphabetically."""
    order = {e: i for i, e in enumerate(endpoint_order(frame["endpoint"]))} if len(frame) else {}
    groups = list(frame.groupby(by, sort=True))
    return sorted(groups, key=lambda kg: tuple(order[v] if k == "endpoint" else v for k, v in zip(by, kg[0])))


def summary(values: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, attack, configuration, endpoint and metric: ``n`` repetitions, the endpoint's
    ``mean``, ``sd`` and 95% t-interval (``ci_low``, ``ci_high``), and the mean inputs used there."""
    rows = []
    for key, g in _groups(values, ENDPOINT_GROUP + ["metric"]):
        v = g["value"].to_numpy(dtype=np.float64)
        low, high = t_interval(v)
        rows.append({**dict(zip(ENDPOINT_GROUP + ["metric"], key)), "n": len(v), "mean": float(v.mean()),
                     "sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan"), "ci_low": low, "ci_high": high,
                     "inputs_used_mean": float(g["inputs_used"].mean())})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


SUMMARY_COLUMNS = ENDPOINT_GROUP + ["metric", "n", "mean", "sd", "ci_low", "ci_high", "inputs_used_mean"]
TEST_COLUMNS = ["n", "n_nonzero", "diff_mean", "diff_sd", "diff_ci_low", "diff_ci_high", "paired_share", "p",
                "p_holm", "significant", "a12_unpaired", "reps_for_80_power", "note"]


def compare(x, y) -> dict:
    """The paired comparison of ``x`` against ``y`` (same repetitions, same order): every column of
    ``TEST_COLUMNS`` but ``p_holm`` and ``significant``."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"paired samples of different sizes: {len(x)} and {len(y)}")
    d = x - y
    test = signed_rank_test(d)
    low, high = t_interval(d)
    n, m = test["n"], test["n_nonzero"]
    if n and m == 0:
        note = f"all {n} pairs equal: no difference to test"
    elif min_wilcoxon_p(m) >= ALPHA:
        note = (f"n_nonzero={m} of n={n}: the smallest reachable p is {min_wilcoxon_p(m):.3g}, so p < 0.05"
                " cannot be reached; run more repetitions")
    else:
        note = ""
    return {"n": n, "n_nonzero": m, "diff_mean": float(d.mean()) if n else float("nan"),
            "diff_sd": float(d.std(ddof=1)) if n > 1 else float("nan"), "diff_ci_low": low, "diff_ci_high": high,
            "paired_share": paired_share(x, y), "p": test["p"] if n else float("nan"), "a12_unpaired": a12(x, y),
            "reps_for_80_power": repetitions_for_power(d), "note": note}


def pairs(values: pd.DataFrame) -> pd.DataFrame:
    """Every ordered pair (metric, other) within a dataset, attack, configuration and endpoint: the paired
    comparison of :func:`compare` over the repetitions both have, the p-value Holm-corrected over the
    group's unordered pairs (``p_holm``) and ``significant`` (p_holm < 0.05)."""
    rows = []
    for key, g in _groups(values, ENDPOINT_GROUP):
        wide = g.pivot_table(index="rep", columns="metric", values="value", aggfunc="first")
        metrics = list(wide.columns)
        tests = {}
        for a, b in itertools.combinations(metrics, 2):
            both = wide[[a, b]].dropna()
            tests[a, b] = compare(both[a], both[b])
        unordered = list(tests)
        corrected = dict(zip(unordered, holm([tests[k]["p"] for k in unordered])))
        for a, b in itertools.permutations(metrics, 2):
            if (a, b) in tests:
                test, k = tests[a, b], (a, b)
            else:  # the mirror image: the same pairs and test, differences negated
                both = wide[[a, b]].dropna()
                test, k = compare(both[a], both[b]), (b, a)
            rows.append({**dict(zip(ENDPOINT_GROUP, key)), "metric": a, "other": b, **test,
                         "p_holm": corrected[k], "significant": bool(corrected[k] < ALPHA)})
    return pd.DataFrame(rows, columns=ENDPOINT_GROUP + ["metric", "other"] + TEST_COLUMNS)


def statistics_table(summary_frame: pd.DataFrame, pair_frame: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """The summary with each metric's paired comparison against ``baseline`` (the test columns; empty on the
    baseline's own rows; ``n``: pairs, the metric's repetitions on the baseline's rows).

    Here the Holm family is the comparisons against the baseline within a dataset, attack,
    configuration and endpoint (k - 1 tests for k metrics: "is a metric better than random?"), not
    every pair as in :func:`pairs`, so that the question the table answers is not diluted by the others.
    """
    against = pair_frame[pair_frame["other"] == baseline][ENDPOINT_GROUP + ["metric"] + TEST_COLUMNS].copy()
    against["p_holm"] = against.groupby(ENDPOINT_GROUP, sort=False)["p"].transform(lambda p: holm(p.to_numpy()))
    against["significant"] = against["p_holm"] < ALPHA
    merged = summary_frame.merge(against, on=ENDPOINT_GROUP + ["metric"], how="left", suffixes=("_reps", ""))
    merged["n"] = merged["n"].fillna(merged["n_reps"]).astype(int)
    merged["n_nonzero"] = merged["n_nonzero"].astype("Int64")  # empty on the baseline's rows
    merged["note"] = merged["note"].fillna("")
    return merged[ENDPOINT_GROUP + ["metric", "n"] + [c for c in SUMMARY_COLUMNS if c not in ENDPOINT_GROUP
                                                      + ["metric", "n"]] + TEST_COLUMNS[1:]]


def statistics_markdown(stats: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """The statistics table in a readable layout: ``mean ± sd [95% CI]`` of the endpoint and, against
    ``baseline``, the mean paired difference [95% CI], the paired share, n_nonzero/n, p_holm (or why no
    p below 0.05 is reachable) and the repetitions needed for 80% power."""
    if stats.empty:
        return pd.DataFrame()

    def versus(r):
        if r["metric"] == baseline or pd.isna(r.get("diff_mean")):
            return "(baseline)" if r["metric"] == baseline else ""
        interval = (f"[{r['diff_ci_low']:+.4f}, {r['diff_ci_high']:+.4f}]" if not pd.isna(r["diff_ci_low"])
                    else "[n/a — 1 pair: no interval]")
        text = (f"{r['diff_mean']:+.4f} {interval}; paired share"
                f" {r['paired_share']:.2f}; {int(r['n_nonzero'])}/{int(r['n'])} non-zero; ")
        if int(r["n_nonzero"]) == 0:
            return text + "all pairs equal"
        if min_wilcoxon_p(int(r["n_nonzero"])) >= ALPHA:
            m = int(r["n_nonzero"])
            text += (f"p_holm {r['p_holm']:.3g}: with {m} untied pairs no p below {min_wilcoxon_p(m):.3g} is possible,"
                     " more repetitions needed")
        else:
            text += f"p_holm {r['p_holm']:.3g}{' *' if r['significant'] else ''}"
        power = r["reps_for_80_power"]
        return text + ("" if pd.isna(power) else f"; 80% power: {power:.0f} reps")

    rows = [{**{k: r[k] for k in ENDPOINT_GROUP + ["metric", "n"]},
             "value: mean ± sd [95% CI]": (f"{r['mean']:.4f} ± {r['sd']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]"
                                           if not pd.isna(r["sd"]) else f"{r['mean']:.4f} (n/a — 1 repetition:"
                                           " no sd)"),
             "inputs used": f"{r['inputs_used_mean']:.0f}",
             f"vs {baseline}: mean paired difference [95% CI]; paired share; non-zero pairs; Holm p": versus(r)}
            for r in stats.to_dict("records")]
    return pd.DataFrame(rows)


def _number(value, fmt: str, missing: str = "n/a") -> str:
    return missing if pd.isna(value) else format(value, fmt)


def pairs_markdown(pairs: pd.DataFrame) -> pd.DataFrame:
    """:func:`guided_retraining.statistics.pairs` for reading: each unordered pair once (the first of its
    two rows; the other is its mirror: difference negated, paired share 1 - share, same p), the mean
    paired difference [95% CI], paired share, non-zero/n pairs, p_holm and A12. Where the numbers
    cannot be computed the cell says why: all pairs tied ('n/a — all n pairs tied'), one repetition
    ('n/a — 1 repetition: no interval')."""
    if pairs.empty:
        return pd.DataFrame()
    seen, rows = set(), []
    for r in pairs.to_dict("records"):
        key = tuple(r[k] for k in ENDPOINT_GROUP) + (frozenset((r["metric"], r["other"])),)
        if key in seen:
            continue
        seen.add(key)
        n, nonzero = int(r["n"]), int(r["n_nonzero"])
        if n and nonzero == 0:
            difference = f"0 (n/a — all {n} pairs tied)"
            test = f"n/a — all {n} pairs tied: nothing to test"
        else:
            interval = (f"[{r['diff_ci_low']:+.4f}, {r['diff_ci_high']:+.4f}]" if not pd.isna(r["diff_ci_low"])
                        else f"[n/a — {n} repetition{'s' if n != 1 else ''}: no interval]")
            difference = f"{_number(r['diff_mean'], '+.4f')} {interval}"
            test = f"{_number(r['p_holm'], '.3g')}{' *' if r['significant'] else ''}"
            if r.get("note"):
                test += f" ({r['note']})"
        rows.append({**{k: r[k] for k in ENDPOINT_GROUP}, "metric": r["metric"], "other": r["other"],
                     "pairs (non-zero/n)": f"{nonzero}/{n}", "mean paired difference [95% CI]": difference,
                     "paired share": _number(r["paired_share"], ".2f"), "p_holm": test,
                     "A12": _number(r["a12_unpaired"], ".2f"),
                     "80% power": ("n/a (no spread to estimate)" if pd.isna(r["reps_for_80_power"])
                                   else f"{r['reps_for_80_power']:.0f} reps")})
    return pd.DataFrame(rows)
