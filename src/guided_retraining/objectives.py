"""The field's other two objectives of test selection, computed from a metric's order without retraining.

The study guides retraining (the third objective, :mod:`guided_retraining.retraining`). Benchmarks of
test-selection metrics judge a metric's order for two more (MetricsBenchmark: "Insights and
Recommendations of Test Selection Metrics for Practitioners: An Empirical Study", fault detection,
performance estimation and retraining guidance; code github.com/MetricsBenchmark/TestingBenchmark):

**Fault detection.** A *fault* is an input of the pool the original model misclassifies: its predicted
class (argmax of the softmax, the activations job's ``pred``) differs from the input's true label (the
standard definition, DeepGini's and MetricsBenchmark's "mispredictions"; a model's other failures, such
as a changed prediction under a perturbation, are not counted). Over an order of the n inputs of a pool
with m faults:

- :func:`apfd`, the Average Percentage of Faults Detected (Rothermel, Untch, Chu & Harrold, "Prioritizing
  test cases for regression testing", IEEE TSE 27(10), 2001; used for DNN inputs by DeepGini, Feng et al.,
  ISSTA 2020): APFD = 1 - (TF_1 + ... + TF_m) / (n m) + 1 / (2n), TF_i the 1-based position of the i-th
  fault in the order. A random order's expected APFD is exactly 1/2 (each fault's expected position is
  (n + 1) / 2); the ideal order (every fault first) reaches 1 - m / (2n) (:func:`apfd_ideal`).
  Undefined (NaN) without faults;
- :func:`found_share`, the share of the m faults among the first b inputs (b a budget,
  :func:`guided_retraining.retraining.budget_size`): found / m. A random selection of b finds
  m b / n faults in expectation (hypergeometric mean), a share of b / n (:func:`found_share_random`);
  the ideal one min(b, m) / m (:func:`found_share_ideal`). MetricsBenchmark reports the count found
  ("#Mis.", ``failures`` in its ``run_evaluation``); the share makes budgets and pools comparable.

**Performance estimation.** The b selected inputs are labelled and the original model's accuracy on
the whole pool is estimated by its accuracy on them (:func:`estimated_accuracy`); the objective is the
absolute error |acc_hat - acc| (:func:`estimation_error`), exactly MetricsBenchmark's "AE"
(``acc_hat = mean(pred[idx] == y[idx])``, ``acc = mean(pred == y)`` over the pool the inputs are
selected from, ``abs(acc_hat - acc)``). Known bias: a metric that ranks likely misclassified inputs
first (any uncertainty metric) selects more faults than the pool's share, so it *underestimates* the
accuracy, the more the better it detects faults; only a random sample is unbiased (its estimate is a
hypergeometric proportion with mean acc). The expected absolute error of a random sample of b is
computed exactly (:func:`estimation_error_random`); the ideal selection is the feasible sample whose
accuracy is closest to acc (:func:`estimation_error_ideal`, 0 when acc * b is a whole number).

The pools (``pool``): the scored set Train* = Train + Adv.Train, the set every order ranks and C1/C2
retrain on, and its new inputs Adv.Train (the adversarial or shifted side set), the order restricted
to them (:func:`guided_retraining.retraining.pool`, C3's pool). MetricsBenchmark selects from and
estimates on a shifted test set, which Adv.Train is the analogue of; Train* adds the clean training
inputs, mostly classified right.
"""

from __future__ import annotations

import functools

import numpy as np

from .errors import DataError

APFD_RANDOM = 0.5  # the expected APFD of a uniformly random order, whatever n and m
# objectives.budgets when the config leaves it out (aggregate.budgets' default): 5%, 10%, 25%, 50% of the pool
DEFAULT_BUDGETS = (0.05, 0.1, 0.25, 0.5)


def config_budgets(config: dict) -> list:
    """``objectives.budgets`` of a config, :data:`DEFAULT_BUDGETS` when left out (the schema fills in no default
    for the section, so that adding it changed no existing config's effective-config digest)."""
    return list((config.get("objectives") or {}).get("budgets", DEFAULT_BUDGETS))


def faults(pred, labels) -> np.ndarray:
    """Boolean mask of the misclassified inputs: ``pred != labels`` (both 1-D integer class arrays of one length)."""
    pred, labels = np.asarray(pred), np.asarray(labels)
    if pred.ndim != 1 or pred.shape != labels.shape:
        raise DataError(f"predictions of shape {pred.shape} and labels of shape {labels.shape}: expected two 1-D"
                        " arrays of one length")
    return pred != labels


def _check(order, fault_mask) -> tuple[np.ndarray, np.ndarray]:
    order, mask = np.asarray(order), np.asarray(fault_mask, dtype=bool)
    if order.ndim != 1 or mask.ndim != 1:
        raise DataError(f"an order and a fault mask are 1-D, got shapes {order.shape} and {mask.shape}")
    if len(order) and (order.min() < 0 or order.max() >= len(mask)):
        raise DataError(f"the order indexes outside the {len(mask)} inputs of the fault mask")
    return order, mask


def fault_positions(order, fault_mask) -> np.ndarray:
    """1-based positions in ``order`` of the faulty inputs (``fault_mask[order[i]]``), ascending."""
    order, mask = _check(order, fault_mask)
    return np.flatnonzero(mask[order]) + 1


def apfd(order, fault_mask) -> float:
    """APFD = 1 - sum(TF_i) / (n m) + 1 / (2n) of ``order`` (n inputs, a permutation of a pool) with the
    faults ``fault_mask`` (m of them); NaN when m = 0 or n = 0 (Rothermel et al. 2001)."""
    positions = fault_positions(order, fault_mask)
    n, m = len(order), len(positions)
    if n == 0 or m == 0:
        return float("nan")
    return float(1.0 - positions.sum(dtype=np.float64) / (n * m) + 1.0 / (2 * n))


def apfd_ideal(n: int, m: int) -> float:
    """APFD of an order with its m faults first: 1 - (m + 1) / (2n) + 1 / (2n) = 1 - m / (2n); NaN when m = 0."""
    return float(1.0 - m / (2 * n)) if n and m else float("nan")


def found_share(order, fault_mask, budget: int) -> float:
    """Share of the faults among the first ``budget`` inputs of ``order``; NaN without faults."""
    order, mask = _check(order, fault_mask)
    m = int(mask.sum())
    return float(mask[order[:budget]].sum() / m) if m else float("nan")


def found_share_random(n: int, m: int, budget: int) -> float:
    """Expected share of the m faults a uniformly random selection of ``budget`` of n inputs finds:
    (m b / n) / m = b / n; NaN without faults."""
    return float(min(budget, n) / n) if n and m else float("nan")


def found_share_ideal(m: int, budget: int) -> float:
    """Share found when every fault comes first: min(b, m) / m; NaN without faults."""
    return float(min(budget, m) / m) if m else float("nan")


def estimated_accuracy(order, correct, budget: int) -> float:
    """The original model's accuracy estimated on the first ``budget`` inputs of ``order``:
    mean(correct[order[:b]]) (``correct``: the boolean mask of inputs classified right)."""
    order, mask = _check(order, correct)
    head = mask[order[:budget]]
    return float(head.mean()) if len(head) else float("nan")


def estimation_error(order, correct, budget: int) -> float:
    """MetricsBenchmark's absolute error |acc_hat - acc|: acc_hat on the first ``budget`` inputs of
    ``order`` (:func:`estimated_accuracy`), acc on all inputs ``order`` ranks."""
    order, mask = _check(order, correct)
    if not len(order):
        return float("nan")
    return abs(estimated_accuracy(order, mask, budget) - float(mask[order].mean()))


def estimation_error_random(n: int, n_correct: int, budget: int) -> float:
    """Expected |acc_hat - acc| of a uniformly random sample of b of n inputs, n_correct of them classified
    right: sum_k P(K = k) |k / b - n_correct / n|, K hypergeometric, P(K = k) = C(n_correct, k)
    C(n - n_correct, b - k) / C(n, b) (through log-gamma, ``scipy.special.gammaln``: exact to rounding
    and fast at MNIST scale, where ``scipy.stats.hypergeom.pmf`` takes seconds). Unbiased (E[K / b] =
    acc) but not error-free: about sqrt(acc (1 - acc) / b (n - b) / (n - 1)) in size."""
    return _estimation_error_random(int(n), int(n_correct), min(int(budget), int(n)))


@functools.lru_cache(maxsize=4096)
def _estimation_error_random(n: int, c: int, b: int) -> float:
    from scipy.special import gammaln

    if n == 0 or b == 0:
        return float("nan")
    k = np.arange(max(0, b - (n - c)), min(b, c) + 1, dtype=np.float64)

    def log_choose(a, r):
        return gammaln(a + 1) - gammaln(r + 1) - gammaln(a - r + 1)

    log_p = log_choose(c, k) + log_choose(n - c, b - k) - log_choose(n, b)
    return float(np.sum(np.exp(log_p) * np.abs(k / b - c / n)))


def estimation_error_ideal(n: int, n_correct: int, budget: int) -> float:
    """The smallest |k / b - acc| over the samples of b inputs that exist: k correct ones, k between
    max(0, b - faults) and min(b, n_correct) (0 when acc * b is a whole number)."""
    b = min(int(budget), int(n))
    if n == 0 or b == 0:
        return float("nan")
    k = np.arange(max(0, b - (n - n_correct)), min(b, n_correct) + 1)
    return float(np.min(np.abs(k / b - n_correct / n)))


def evaluate_order(order, fault_mask, budgets) -> dict[str, float]:
    """Both objectives of one order at once: ``apfd`` and, per ``(name, size)`` of ``budgets``,
    ``found_<name>`` (:func:`found_share`) and ``abs_error_<name>`` (:func:`estimation_error`, ``correct``
    the complement of ``fault_mask``); with their random and ideal references as ``<key>:random`` and
    ``<key>:ideal``. One pass over the order: cumulative fault counts give every budget."""
    order, mask = _check(order, fault_mask)
    n, m = len(order), int(mask[order].sum())
    hits = np.cumsum(mask[order], dtype=np.int64)
    out = {"apfd": apfd(order, mask), "apfd:random": APFD_RANDOM if m else float("nan"), "apfd:ideal": apfd_ideal(n, m)}
    accuracy = (n - m) / n if n else float("nan")
    for name, size in budgets:
        b = min(int(size), n)
        found = int(hits[b - 1]) if b else 0
        out[f"found_{name}"] = found / m if m else float("nan")
        out[f"found_{name}:random"] = found_share_random(n, m, b)
        out[f"found_{name}:ideal"] = found_share_ideal(m, b)
        out[f"abs_error_{name}"] = abs((b - found) / b - accuracy) if b else float("nan")
        out[f"abs_error_{name}:random"] = estimation_error_random(n, n - m, b)
        out[f"abs_error_{name}:ideal"] = estimation_error_ideal(n, n - m, b)
    return out


# ---- the three objectives over repetitions: paired comparisons with random (statistics.py's tests)

OBJECTIVES = ("fault_detection", "estimation", "retraining")
LOWER_IS_BETTER = ("abs_error",)  # endpoint prefixes whose smaller value is the better one
KEYS = ["dataset", "attack", "objective", "scope", "endpoint"]
TABLE_COLUMNS = KEYS + ["budget", "inputs_mean", "metric", "better", "n", "mean", "sd", "ci_low", "ci_high",
                        "random_expected", "ideal", "n_nonzero", "gain_mean", "gain_sd", "gain_ci_low",
                        "gain_ci_high", "paired_share", "p", "p_holm", "significant", "a12_unpaired",
                        "reps_for_80_power", "note"]


def objective_of(endpoint: str) -> str:
    """``fault_detection`` (apfd, found_*), ``estimation`` (abs_error_*) or ``retraining`` (accuracy_*)."""
    if endpoint == "apfd" or endpoint.startswith("found_"):
        return "fault_detection"
    if endpoint.startswith("abs_error_"):
        return "estimation"
    if endpoint.startswith("accuracy_"):
        return "retraining"
    raise ValueError(f"not an objective's endpoint: {endpoint!r}")


def higher_is_better(endpoint: str) -> bool:
    return not endpoint.startswith(LOWER_IS_BETTER)


def order_rows(keys: dict, order, fault_mask, budgets) -> list[dict]:
    """One row per endpoint of :func:`evaluate_order` (``value``, ``random_expected``, ``ideal``, ``budget``,
    ``inputs``), each carrying ``keys`` (dataset, attack, scope, metric, rep)."""
    result = evaluate_order(order, fault_mask, budgets)
    sizes = {name: min(int(size), len(order)) for name, size in budgets}
    rows = []
    for endpoint in [k for k in result if ":" not in k]:
        budget = "" if endpoint == "apfd" else endpoint.split("_")[-1]
        rows.append({**keys, "objective": objective_of(endpoint), "endpoint": endpoint, "budget": budget,
                     "inputs": sizes.get(budget, len(order)), "value": result[endpoint],
                     "random_expected": result[f"{endpoint}:random"], "ideal": result[f"{endpoint}:ideal"]})
    return rows


def objectives_table(values, baseline: str = "random"):
    """Per dataset, attack, objective, scope (pool or configuration) and endpoint, each metric's value over the
    repetitions (``n``, ``mean``, ``sd``, 95% t-interval ``ci_*``; ``random_expected`` and ``ideal``: the
    references' means) and its paired comparison with ``baseline`` over the repetitions both have
    (:func:`guided_retraining.statistics.compare`), oriented so that > 0 means better than the baseline:
    ``gain`` = metric - baseline where higher is better, baseline - metric for the estimation error
    (``better`` says which); ``paired_share``: repetitions where the metric is better, ties half; the exact
    Wilcoxon signed-rank p, Holm-corrected over the comparisons with the baseline within the row's dataset,
    attack, objective, scope and endpoint (``p_holm``, ``significant`` below 0.05). Groups and metrics keep
    the order of ``values``; empty test columns on the baseline's rows and without a baseline."""
    import pandas as pd

    from .statistics import ALPHA, compare, holm, t_interval

    rows = []
    if values.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    # rows by dataset, attack, objective (OBJECTIVES' order), scope and endpoint, each in order of appearance
    codes = {k: pd.factorize(values[k])[0] for k in KEYS}
    codes["objective"] = values["objective"].map(OBJECTIVES.index).to_numpy()
    values = values.iloc[np.lexsort([codes[k] for k in reversed(KEYS)])]
    for key, g in values.groupby(KEYS, sort=False):
        endpoint = key[-1]
        sign = 1.0 if higher_is_better(endpoint) else -1.0
        wide = g.pivot_table(index="rep", columns="metric", values="value", aggfunc="first", dropna=False)
        group_rows, tests = [], {}
        for metric, m in g.groupby("metric", sort=False):
            v = m["value"].dropna().to_numpy(dtype=np.float64)
            low, high = t_interval(v)
            row = {**dict(zip(KEYS, key)), "budget": m["budget"].iloc[0], "inputs_mean": float(m["inputs"].mean()),
                   "metric": metric, "better": "higher" if sign > 0 else "lower", "n": len(v),
                   "mean": float(v.mean()) if len(v) else float("nan"),
                   "sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan"), "ci_low": low, "ci_high": high,
                   "random_expected": float(m["random_expected"].mean()), "ideal": float(m["ideal"].mean())}
            if metric != baseline and baseline in wide.columns:
                both = wide[[metric, baseline]].dropna()
                test = compare(sign * both[metric].to_numpy(), sign * both[baseline].to_numpy())
                tests[metric] = test
                row.update({"n": test["n"], "n_nonzero": test["n_nonzero"], "paired_share": test["paired_share"],
                            "p": test["p"], "a12_unpaired": test["a12_unpaired"],
                            "reps_for_80_power": test["reps_for_80_power"], "note": test["note"],
                            **{f"gain_{s}": test[f"diff_{s}"] for s in ("mean", "sd", "ci_low", "ci_high")}})
            elif metric != baseline:
                row["note"] = f"no {baseline} metric in the config: compare with random_expected"
            group_rows.append(row)
        corrected = dict(zip(tests, holm([t["p"] for t in tests.values()])))
        for row in group_rows:
            if row["metric"] in corrected:
                row["p_holm"] = corrected[row["metric"]]
                row["significant"] = bool(row["p_holm"] < ALPHA)
        rows += group_rows
    frame = pd.DataFrame(rows).reindex(columns=TABLE_COLUMNS)
    frame["n_nonzero"] = frame["n_nonzero"].astype("Int64")
    frame["significant"] = frame["significant"].astype("boolean")
    frame["note"] = frame["note"].fillna("")
    return frame


def objectives_markdown(table, baseline: str = "random"):
    """The objectives table in a readable layout: ``mean [95% CI]``, the random and ideal references and,
    against ``baseline``, the gain [95% CI] (> 0: better), the paired share and Holm's p."""
    import pandas as pd

    if table.empty:
        return pd.DataFrame()

    def versus(r):
        if r["metric"] == baseline:
            return "(baseline)"
        if pd.isna(r["gain_mean"]):
            return r["note"]
        text = (f"{r['gain_mean']:+.4f} [{r['gain_ci_low']:+.4f}, {r['gain_ci_high']:+.4f}]; paired share"
                f" {r['paired_share']:.2f}; p_holm {r['p_holm']:.3g}{' *' if r['significant'] else ''}")
        return text + (f" ({r['note']})" if r["note"] else "")

    def ref(x):
        return "" if pd.isna(x) else f"{x:.4f}"

    return pd.DataFrame([{**{k: r[k] for k in KEYS}, "inputs": f"{r['inputs_mean']:.0f}", "metric": r["metric"],
                          "n": r["n"], "mean [95% CI]": f"{r['mean']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]",
                          "random (expected)": ref(r["random_expected"]), "ideal": ref(r["ideal"]),
                          f"gain over {baseline} [95% CI] (> 0 better); paired share; Holm p": versus(r)}
                         for r in table.to_dict("records")])


# ---- which metric for which shift and objective: one line per group, the metrics ranked by their gain

OVERVIEW_COLUMNS = ["dataset", "objective", "scope", "endpoint", "attack", "n", "best", "gain_mean", "gain_ci_low",
                    "gain_ci_high", "paired_share", "p_holm", "better_by_ci", "worse_by_ci", "compared", "ranking"]


def overview(table, baseline: str = "random"):
    """Which metric for which attack or shift and objective, from :func:`objectives_table`: per dataset,
    objective, scope, endpoint and attack or shift, the metric with the largest mean paired gain over
    ``baseline`` (``best``, its gain with the 95% t-interval, paired share and Holm p), how many of the
    ``compared`` metrics have a t-interval above 0 (``better_by_ci``) or below it (``worse_by_ci``), and
    ``ranking``: every compared metric by mean gain, best first (``a > b`` where a's mean gain is higher,
    ``a = b`` where equal to 4 decimals). The t-interval, not the exact test, marks a direction here: with
    few repetitions the exact Wilcoxon test cannot reach p < 0.05 (2 / 2^n), which ``p_holm`` shows.
    Rows in the order of ``table``; empty without a baseline."""
    import pandas as pd

    rows = []
    compared = table[(table["metric"] != baseline) & table["gain_mean"].notna()]
    keys = ["dataset", "objective", "scope", "endpoint", "attack"]
    for key, g in compared.groupby(keys, sort=False):
        g = g.sort_values("gain_mean", ascending=False, kind="stable")
        best = g.iloc[0]
        ranking = " ".join(f"{'= ' if i and round(a, 4) == round(b, 4) else '> ' if i else ''}{m}"
                           for i, (m, a, b) in enumerate(zip(g["metric"], g["gain_mean"],
                                                             [float("nan"), *g["gain_mean"].iloc[:-1]])))
        rows.append({**dict(zip(keys, key)), "n": int(best["n"]), "best": best["metric"],
                     **{c: float(best[c]) for c in ("gain_mean", "gain_ci_low", "gain_ci_high", "paired_share",
                                                    "p_holm")},
                     "better_by_ci": int((g["gain_ci_low"] > 0).sum()), "worse_by_ci": int((g["gain_ci_high"] < 0).sum()),
                     "compared": len(g), "ranking": ranking})
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)


def overview_markdown(frame):
    """:func:`overview` laid out for reading: one row per dataset, objective, scope and endpoint, one column
    per attack or shift; a cell is the best metric, its gain over random with the 95% t-interval, and how
    many metrics' intervals lie above / below 0 of those compared; ``(n = k)`` where the best metric's gain
    comes from fewer repetitions than the table's most (e.g. APFD is undefined in a repetition without faults)."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame()
    most = int(frame["n"].max())

    def cell(r):
        fewer = f" (n = {r['n']})" if int(r["n"]) < most else ""
        interval = (f"[{r['gain_ci_low']:+.3f}, {r['gain_ci_high']:+.3f}]" if pd.notna(r["gain_ci_low"])
                    else f"(n/a: no interval from {r['n']} repetition{'s' if int(r['n']) != 1 else ''})")
        return (f"{r['best']} {r['gain_mean']:+.3f} {interval}{fewer};"
                f" {r['better_by_ci']} above, {r['worse_by_ci']} below 0 of {r['compared']}")

    keys = ["dataset", "objective", "scope", "endpoint"]
    wide = {}
    for r in frame.to_dict("records"):
        wide.setdefault(tuple(r[k] for k in keys), {})[r["attack"]] = cell(r)
    attacks = list(dict.fromkeys(frame["attack"]))
    return pd.DataFrame([{**dict(zip(keys, k)), **{a: v.get(a, "") for a in attacks}} for k, v in wide.items()])
