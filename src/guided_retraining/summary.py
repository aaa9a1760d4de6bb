"""The run's answer on one page: ``results/summary.md`` from the aggregate's statistics.

Per dataset, attack and configuration, every metric against ``random`` at every endpoint of the
statistics table (``best``, ``auc`` and the fixed budgets of ``aggregate.budgets``), in words and
numbers (the columns are computed by :mod:`guided_retraining.statistics`):

- the direction and size of the mean paired difference d = metric - random over the repetitions, with
  its 95% Student t-interval ("better than random by 0.031 (95% CI 0.012 to 0.050)");
- "beat random" / "worse than random" only where the exact two-sided Wilcoxon signed-rank test,
  Holm-corrected over the metrics compared with random within the dataset, attack, configuration and
  endpoint, gives p_holm < 0.05; otherwise "no detectable difference" with the observed direction;
- how sure: p, p_holm, the pairs the test used (ties, d = 0, dropped) and, when not significant, the
  repetitions needed: with m untied pairs the smallest two-sided exact signed-rank p is 2 / 2**m
  (:func:`statistics.min_wilcoxon_p`) and Holm over k tests multiplies the smallest p by k, so
  p_holm < 0.05 can only be reached with 2k / 2**m < 0.05 (:func:`pairs_needed`); and the
  repetitions a paired t-test needs for 80% power at the observed difference (``reps_for_80_power``);
- the unpaired Vargha-Delaney A12 = P(X > Y) + 0.5 P(X = Y) over every (metric value, random value)
  pair (:func:`statistics.a12`), always with its direction: A12 0.28 means the metric's value is lower
  than random's in 72% of those pairs (ties counting half).

Artefacts are flagged (:func:`leakage`): a metric whose reference set is Train while it scores
Train* = Train + Adv.Train (``reference: train`` without ``exclude_self``) finds every clean input
among its own references (DSA: its own nearest neighbour, score 0), so its separation of clean from
adversarial inputs in the score-distribution figure (AUC near 1) is that leakage, not the metric.

The same document is written as Markdown (``summary.md``, with links relative to the results
directory) and as reStructuredText for the report's landing page (:func:`to_rst`).
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .statistics import ALPHA, min_wilcoxon_p

BASELINE = "random"
KEY_HEADING = "In three lines"
# tables and figures linked from the summary: file stem -> what the link says (only those present are linked)
TABLE_LINKS = {"table3": "Table 3", "table4": "Table 4", "table5": "Table 5", "statistics": "statistics",
               "statistics_pairs": "every pair of metrics", "cross_attack": "cross-attack accuracies",
               "retraining_time": "retraining time", "adversarial_share": "adversarial share"}
FIGURE_LINKS = {"figure3": "Figure 3", "budgets": "differences at fixed budgets", "scores": "score distributions",
                "paired_share": "paired shares", "adversarial_share": "adversarial share"}
CONFIGURATIONS = {"C1": "new random weights, trained on Train* in the metric's order",
                  "C2": "the original weights, trained on Train* in the metric's order",
                  "C3": "the original weights, trained on Adv.Train only, in the metric's order"}


def read_table(path) -> pd.DataFrame:
    """A table CSV as a DataFrame, whether it starts with a ``# title; source`` comment line (the tables of
    earlier versions) or directly with the header (provenance in a JSON file beside it)."""
    path = Path(path)
    with open(path) as fh:
        first = fh.readline()
    return pd.read_csv(path, skiprows=1 if first.startswith("#") else 0)


def number(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals, a true minus sign and no negative zero."""
    text = f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "−")


def endpoint_words(endpoint: str) -> str:
    """``best`` -> "at the best point", ``auc`` -> "over the whole curve (normalised AUC)",
    ``budget_f0.1`` -> "at a budget of 10% of T", ``budget_n30`` -> "at a budget of 30 inputs"."""
    from .retraining import parse_budget

    if endpoint == "best":
        return "at the best point"
    if endpoint == "auc":
        return "over the whole curve (normalised AUC)"
    kind, value = parse_budget(endpoint.removeprefix("budget_"))
    if kind == "fraction":
        return f"at a budget of {value * 100:g}% of T"
    return f"at a budget of {value} inputs"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def interval_words(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "no interval with one repetition"
    return f"95% CI {number(low)} to {number(high)}"


def difference_words(mean: float, low: float, high: float, significant: bool) -> str:
    """The mean paired difference d = metric - random in words, its direction always stated."""
    interval = interval_words(low, high)
    size = number(abs(mean))
    if significant:
        return f"{'better' if mean > 0 else 'worse'} than random by {size} ({interval})"
    if round(mean, 12) == 0:
        return f"no detectable difference (mean difference 0, {interval})"
    return f"no detectable difference (observed: {'higher' if mean > 0 else 'lower'} than random by {size}, {interval})"


def a12_words(a12: float) -> str:
    """The unpaired A12 of metric against random with its direction. A12 = P(metric > random) +
    P(metric = random) / 2 over every (metric value, random value) pair, so the share in words counts ties
    as half: "higher than random in 72% of value pairs, ties counting half" (lower: 1 - A12)."""
    if pd.isna(a12):
        return ""
    shown = f"{a12:.2f}"  # the share in words is the shown A12's, so the two never disagree by rounding
    if round(a12, 12) == 0.5:
        return "A12 0.50: neither higher nor lower than random (ties counting half)"
    if a12 > 0.5:
        return f"A12 {shown}: higher than random in {round(float(shown) * 100)}% of value pairs, ties counting half"
    return f"A12 {shown}: lower than random in {round((1 - float(shown)) * 100)}% of value pairs, ties counting half"


def pairs_needed(k: int, alpha: float = ALPHA) -> int:
    """The fewest untied pairs m with which the exact signed-rank test can give p_holm < ``alpha`` over a
    Holm family of ``k`` tests: the smallest m with k · 2 / 2**m < alpha (k = 1: 6; k = 5: 8)."""
    m = 1
    while max(k, 1) * min_wilcoxon_p(m) >= alpha:
        m += 1
    return m


def certainty_words(r: dict, k: int) -> str:
    """How sure: p, p_holm over ``k`` comparisons, the pairs used, and what it would take to know."""
    n, m = int(r["n"]), int(r["n_nonzero"])
    ties = n - m
    used = f"{m} of {n} pairs ({_count(ties, 'tied pair')} dropped)" if ties else _count(n, "pair")
    if m == 0:
        return f"all {n} pair{'s' if n != 1 else ''} equal: nothing to test"
    text = f"p {r['p']:.3g}, p_holm {r['p_holm']:.3g} (Holm over {k} metric{'s' if k != 1 else ''}), {used}"
    if r["significant"]:
        return text
    need = pairs_needed(k)
    floor = min(1.0, k * min_wilcoxon_p(m))
    if floor >= ALPHA:
        text += (f"; p_holm cannot fall below {floor:.3g} with {m} untied pair{'s' if m != 1 else ''}, so p < 0.05 is"
                 f" out of reach: it needs at least {need} repetitions without a tie")
    power = r.get("reps_for_80_power")
    if power is not None and not pd.isna(power):
        text += ("; no number of repetitions gives 80% power for a difference this small" if math.isinf(power)
                 else f"; 80% power at the observed difference: {max(power, need):.0f} repetitions"
                 + (f" (a paired t-test would need {power:.0f}; the exact test needs at least {need} untied pairs)"
                    if power < need else ""))
    return text


def comparison_line(r: dict, k: int) -> str:
    """One metric against random at one endpoint, in words and numbers."""
    parts = [difference_words(r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], bool(r["significant"])),
             certainty_words(r, k), a12_words(r["a12_unpaired"])]
    return f"`{r['metric']}` {endpoint_words(r['endpoint'])}: " + "; ".join(p for p in parts if p) + "."


def versus_random(stats: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """The statistics table's rows comparing a metric with ``baseline`` (the rows with a test)."""
    rows = stats[(stats["metric"] != baseline) & stats["diff_mean"].notna()].copy()
    rows["significant"] = rows["significant"].astype(str).str.lower().isin(["true", "1"])
    rows["n_nonzero"] = rows["n_nonzero"].astype(int)
    # Holm family per dataset, attack, configuration and endpoint: the metrics compared with random that have a p
    family = rows.groupby(["dataset", "attack", "configuration", "endpoint"], sort=False)["p"]
    rows["family"] = family.transform("count")
    return rows


def leakage(metrics: dict, remedies: dict[str, set], scores: dict | None = None) -> dict[str, str]:
    """Metric name -> warning, for each metric whose reference set contains the scored clean inputs themselves.

    ``metrics``: the config's metrics (name -> options); ``remedies``: metric kind -> the options it has
    that remove the overlap (``exclude_self``, ``reference``: the kinds whose registry entry declares them,
    the surprise metrics). Such a metric overlaps unless ``reference: validation`` or ``exclude_self: true``.
    ``scores``: optional name -> (clean scores, adversarial scores) of one repetition, to quote what the
    overlap did (clean inputs scoring 0, the AUC of the score-distribution figure)."""
    from .plots import separation_auc

    out = {}
    for name, options in metrics.items():
        options = options or {}
        kind = options.get("kind", name)
        if kind not in remedies or options.get("reference", "train") == "validation" \
                or options.get("exclude_self", False):
            continue
        text = (f"`{name}` scores Train* against Train's own traces (reference train, exclude_self false), so every"
                " clean input is among its own references")
        if scores and name in scores:
            clean, adversarial = (np.asarray(s, dtype=np.float64) for s in scores[name])
            zero = float(np.mean(clean == 0)) if len(clean) else float("nan")
            auc = separation_auc(clean, adversarial)
            if zero == 1:
                text += ": every clean input scores 0 (its own nearest neighbour)"
            elif zero > 0:
                text += f": {zero * 100:.0f}% of the clean inputs score 0"
            text += f"; the score-distribution figure's AUC {auc:.2f} (adversarial above clean) reflects that overlap"
            if auc >= 0.9:
                text += ", not the metric telling adversarial inputs apart: its order mostly means 'adversarial first'"
        else:
            text += "; its separation of clean from adversarial inputs is partly that overlap"
        fixes = [f"`{setting}`" for option, setting in (("exclude_self", "exclude_self: true"),
                                                         ("reference", "reference: validation"))
                 if option in remedies[kind]]
        out[name] = text + (f". To score without it set {' or '.join(fixes)} under metrics.{name}"
                            " (docs/metrics.md: the SA reference set)." if fixes else ".")
    return out


def new_inputs_words(attack: str, shifts: dict[str, str] | None) -> str:
    """How the summary names a row's new inputs: the attack's name, or a shift's name with ``(shift: <kind>)``."""
    return f"{attack} (shift: {shifts[attack]})" if shifts and attack in shifts else attack


def key_lines(rows: pd.DataFrame, warnings: dict[tuple[str, str], dict[str, str]],
              shifts: dict[str, str] | None = None) -> list[str]:
    """The three most important lines of the run (``shifts``: name -> kind of the rows that are shifts).

    1. the verdict: how many comparisons with random were significant, in which direction (or that no
       metric beat random at any endpoint);
    2. the strongest significant result (the largest difference better than random; otherwise the largest
       worse; otherwise the largest observed difference and that it is not significant);
    3. what limits the answer: that p < 0.05 was out of reach at the run's size (and the repetitions
       needed), else the first artefact warning, else the repetitions for 80% power of the largest
       non-significant difference."""
    total = len(rows)
    if not total:
        return ["No comparison with random was made (the run has no metric besides random, or no results)."]
    better = rows[rows["significant"] & (rows["diff_mean"] > 0)]
    worse = rows[rows["significant"] & (rows["diff_mean"] < 0)]
    reps = int(rows["n"].max())
    if len(better):
        names = ", ".join(f"`{m}`" for m in sorted(better["metric"].unique()))
        first = (f"{len(better)} of {total} comparisons with random (after Holm, p_holm < 0.05) show a metric better"
                 f" than random ({names}); {len(worse)} show one worse; {_count(reps, 'repetition')}.")
    else:
        first = (f"No metric beat random at any endpoint: 0 of {total} comparisons with random are significantly"
                 f" better (p_holm < 0.05), {len(worse)} significantly worse; {_count(reps, 'repetition')}.")

    def where(r):
        return f"{r['dataset']}, {new_inputs_words(r['attack'], shifts)}, {r['configuration']}"

    if len(better):
        r = better.loc[better["diff_mean"].idxmax()]
        second = f"Strongest: {where(r)}: " + comparison_line(r.to_dict(), int(r["family"]))
    elif len(worse):
        r = worse.loc[worse["diff_mean"].idxmin()]
        second = f"Strongest: {where(r)}: " + comparison_line(r.to_dict(), int(r["family"]))
    else:
        r = rows.loc[rows["diff_mean"].abs().idxmax()]
        second = f"Largest observed difference (not significant): {where(r)}: " + comparison_line(
            r.to_dict(), int(r["family"]))
    unreachable = rows[rows.apply(lambda x: x["n_nonzero"] > 0 and min(1.0, x["family"] * min_wilcoxon_p(
        x["n_nonzero"])) >= ALPHA, axis=1)]
    flat = [w for per in warnings.values() for w in per.values()]
    if len(unreachable):
        need = max(pairs_needed(int(k)) for k in unreachable["family"])
        if reps >= need:  # enough repetitions, but tied pairs (dropped by the test) left too few
            third = (f"In {len(unreachable)} of {total} comparisons too many of the {reps} pairs tied (the exact"
                     f" signed-rank test drops them and needs at least {need} untied pairs, Holm-corrected), so"
                     " p < 0.05 was out of reach there: more repetitions (config `repetitions`) would tell.")
        else:
            tied = int((rows["n_nonzero"] == 0).sum())
            third = (f"With {_count(reps, 'repetition')} p < 0.05 is out of reach in {len(unreachable)} of {total}"
                     " comparisons (the exact signed-rank test over the untied pairs, Holm-corrected"
                     + (f"; in {tied} more every pair tied, nothing to test" if tied else "")
                     + f"): run at least {need} repetitions (config `repetitions`) to be able to tell.")
    elif flat:
        third = "Warning: " + flat[0]
    else:
        open_rows = rows[~rows["significant"] & rows["reps_for_80_power"].notna()]
        if len(open_rows):
            r = open_rows.loc[open_rows["diff_mean"].abs().idxmax()]
            third = (f"The largest difference not shown significant ({r['metric']} {endpoint_words(r['endpoint'])},"
                     f" {where(r)}) needs {r['reps_for_80_power']:.0f} repetitions for 80% power.")
        else:
            third = "Every difference to random that was observed is significant."
    return [first, second, third]


def _links(results: Path, dataset: str, attack: str) -> list[str]:
    tables = [f"[{label}](tables/{stem}.md)" for stem, label in TABLE_LINKS.items()
              if (results / f"tables/{stem}.md").exists()]
    figures = [f"[{label}](figures/{stem}_{dataset}_{attack}.png)" for stem, label in FIGURE_LINKS.items()
               if (results / f"figures/{stem}_{dataset}_{attack}.png").exists()]
    lines = []
    if tables:
        lines.append("Tables: " + " · ".join(tables) + ".")
    if figures:
        lines.append("Figures: " + " · ".join(figures) + ".")
    return lines


def summary_markdown(stats: pd.DataFrame, results, warnings: dict[tuple[str, str], dict[str, str]] | None = None,
                     source: str = "", shifts: dict[str, str] | None = None) -> str:
    """The whole summary as Markdown (links relative to ``results``, the directory summary.md lies in;
    ``shifts``: name -> kind of the grid's entries that are distribution shifts, named so).

    ``stats``: the statistics table (:func:`statistics.statistics_table`, read back with :func:`read_table`);
    ``warnings``: (dataset, attack) -> metric -> warning (:func:`leakage`)."""
    from .statistics import endpoint_order

    results = Path(results)
    warnings = warnings or {}
    rows = versus_random(stats)
    reps = int(stats["n"].max()) if len(stats) else 0
    out = ["# What this run found", ""]
    if source:
        out += [f"Source: `{source}`.", ""]
    out += [f"Each line compares a metric with `{BASELINE}` over the same {reps} repetition"
            f"{'s' if reps != 1 else ''} (paired: same split, original model, initial weights and batches): the mean"
            " paired difference of the accuracy on Test* (at the best point, chosen on validation data; at each fixed"
            " budget) or of the normalised area under the accuracy curve, with its 95% t-interval; the exact two-sided"
            " Wilcoxon signed-rank p over the pairs that differ (tied pairs dropped), Holm-corrected over the metrics"
            " compared with random (p_holm); the repetitions needed where that is not enough; and the unpaired"
            " Vargha-Delaney A12. A metric *beats random* where p_holm < 0.05 and the difference is positive. With m"
            " untied pairs the exact test cannot give p below 2 / 2^m (p_holm: that times the number of metrics), so"
            " a run with few repetitions cannot show any difference; the lines say so and give the repetitions"
            " needed.", ""]
    out += [f"## {KEY_HEADING}", ""] + [f"- {line}" for line in key_lines(rows, warnings, shifts) if line] + [""]
    for (dataset, attack), group in stats.groupby(["dataset", "attack"], sort=True):
        out += [f"## {dataset}, {new_inputs_words(attack, shifts)}", ""]
        for line in _links(results, dataset, attack):
            out += [line, ""]
        for metric, text in warnings.get((dataset, attack), {}).items():
            out += [f"**Warning ({metric}):** {text}", ""]
        sub = rows[(rows["dataset"] == dataset) & (rows["attack"] == attack)]
        for configuration in sorted(group["configuration"].unique()):
            c = sub[sub["configuration"] == configuration]
            out += [f"### {configuration}" + (f" ({CONFIGURATIONS[configuration]})" if configuration in CONFIGURATIONS
                                              else ""), ""]
            if c.empty:
                out += ["No comparison with random (a single metric, or no repetitions).", ""]
                continue
            order = {e: i for i, e in enumerate(endpoint_order(c["endpoint"]))}
            c = c.assign(_order=c["endpoint"].map(order)).sort_values(["_order", "metric"], kind="stable")
            for label, chosen in (("Beat random", c["significant"] & (c["diff_mean"] > 0)),
                                  ("Worse than random", c["significant"] & (c["diff_mean"] < 0))):
                hits = c[chosen]
                listed = "; ".join(f"`{r['metric']}` {endpoint_words(r['endpoint'])}" for r in hits.to_dict("records"))
                out += [f"**{label}:** {listed if listed else 'no metric at any endpoint'}.", ""]
            out += ["Every comparison:", ""]
            out += [f"- {comparison_line(r, int(r['family']))}" for r in c.to_dict("records")] + [""]
    return "\n".join(out).rstrip() + "\n"


def read_key_lines(path) -> list[str]:
    """The key lines of a written summary.md (its "In three lines" section)."""
    lines, inside = [], False
    for line in Path(path).read_text().splitlines():
        if line.startswith("## "):
            inside = line == f"## {KEY_HEADING}"
            continue
        if inside and line.startswith("- "):
            lines.append(line[2:])
    return lines


def to_rst(markdown: str) -> str:
    """The summary's Markdown as reStructuredText (for the report's landing page): headings underlined,
    ``code`` as literals, links as their text (the report has no files to link to)."""
    underline = {1: "=", 2: "-", 3: "~"}
    out = []
    for line in markdown.splitlines():
        m = re.match(r"(#+) (.*)", line)
        if m:
            title = _inline_rst(m.group(2))
            out += [title, underline[len(m.group(1))] * max(4, len(title))]
        else:
            out.append(_inline_rst(line))
    return "\n".join(out) + "\n"


def _inline_rst(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = re.sub(r"`([^`]+)`", r"``\1``", text)
    return re.sub(r"(?<![\w*])\*([^*]+)\*(?!\*)", r"*\1*", text)


NUM = ' class="num"'


def table_html(frame: pd.DataFrame, title: str, digits: int = 4) -> str:
    """A table as a small self-contained HTML page (title, then every row; floats with ``digits`` decimals,
    numbers right-aligned), for the report, which shows HTML files inline."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]

    # float columns holding whole numbers only (counts with gaps, read back as float) are shown as whole numbers
    whole = [pd.api.types.is_float_dtype(frame[c]) and bool((frame[c].dropna() % 1 == 0).all()) for c in frame.columns]

    def cell(value, is_number, is_whole=False):
        if pd.isna(value):
            text = ""
        elif isinstance(value, float) and is_whole:
            text = f"{value:.0f}"
        elif isinstance(value, float):
            text = f"{value:.{digits}f}"
        else:
            text = str(value)
        return f"<td{NUM if is_number else ''}>{html.escape(text)}</td>"

    head = "".join(f"<th{NUM if n else ''}>{html.escape(str(c))}</th>" for c, n in zip(frame.columns, numeric))
    rows = "\n".join("<tr>" + "".join(cell(v, n, w) for v, n, w in zip(row, numeric, whole)) + "</tr>"
                     for row in frame.itertuples(index=False, name=None))
    style = ("body{font-family:system-ui,sans-serif;font-size:13px;margin:12px;color:#111}"
             "h1{font-size:16px;font-weight:600}table{border-collapse:collapse}"
             "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}"
             "th{background:#eee;position:sticky;top:0}tr:nth-child(even) td{background:#f7f7f7}.num{text-align:right}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head>\n<body><h1>{html.escape(title)}</h1>\n"
            f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n</body></html>\n")


def figure_html(png_path, title: str) -> str:
    """A PNG figure as a small self-contained HTML page that draws it at the full width of the window (the
    report shows a PNG at its own size beside the menu, an HTML page across the whole content area)."""
    import base64

    data = base64.b64encode(Path(png_path).read_bytes()).decode("ascii")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "<style>body{margin:8px;font-family:system-ui,sans-serif}img{width:100%;height:auto;display:block}"
            "</style></head>\n"
            f"<body><img alt=\"{html.escape(title)}\" src=\"data:image/png;base64,{data}\"></body></html>\n")


def table_title(markdown_path, fallback: str) -> str:
    """A table's title: the first line of its Markdown file (``# title``), else ``fallback``."""
    path = Path(markdown_path)
    if path.exists():
        first = path.read_text().split("\n", 1)[0]
        if first.startswith("# "):
            return first[2:].strip()
    return fallback


def rst_to_html(rst: str, title: str) -> str:
    """reStructuredText as one self-contained HTML page (docutils, its stylesheet embedded)."""
    from docutils.core import publish_string

    return publish_string(rst, writer_name="html5", settings_overrides={
        "title": title, "embed_stylesheet": True, "report_level": 3, "halt_level": 4,
        "file_insertion_enabled": False, "raw_enabled": False, "output_encoding": "unicode"})


def end_of_run(path, statistics_path) -> str:
    """What the end of a run prints: the summary's path and its key lines; empty when the summary is missing
    or older than the statistics table it reads (a run that stopped before it, or targets without it)."""
    path, statistics_path = Path(path), Path(statistics_path)
    if not path.exists() or (statistics_path.exists() and path.stat().st_mtime < statistics_path.stat().st_mtime):
        return ""
    lines = [re.sub(r"`([^`]+)`", r"\1", line) for line in read_key_lines(path)]
    return "\n".join([f"What this run found: {path}"] + [f"  - {line}" for line in lines])
