"""results/summary.md: what the run found, in words and numbers (guided_retraining.summary), and its workflow rule."""

import os
import re

import numpy as np
import pandas as pd
import pytest

from guided_retraining import statistics, summary

COLUMNS = ["dataset", "attack", "configuration", "endpoint", "metric", "n", "mean", "sd", "ci_low", "ci_high",
           "inputs_used_mean", "n_nonzero", "diff_mean", "diff_sd", "diff_ci_low", "diff_ci_high", "paired_share", "p",
           "p_holm", "significant", "a12_unpaired", "reps_for_80_power", "note"]


def stats_frame(values: dict, n: int) -> pd.DataFrame:
    """The statistics table (statistics.statistics_table) of one dataset/attack/configuration, from per-endpoint
    per-metric values over ``n`` repetitions, computed by the real statistics code."""
    rows = [{"dataset": "digits", "attack": "fgsm", "rep": r + 1, "configuration": "C2", "metric": m, "endpoint": e,
             "value": v[r], "inputs_used": 10}
            for (e, m), v in values.items() for r in range(n)]
    frame = pd.DataFrame(rows)
    return statistics.statistics_table(statistics.summary(frame), statistics.pairs(frame))


def test_read_table_with_and_without_comment_line(tmp_path):
    plain, commented = tmp_path / "plain.csv", tmp_path / "commented.csv"
    plain.write_text("a,b\n1,x # y\n2,z\n")
    commented.write_text("# Title; source: c.yaml\na,b\n1,x # y\n2,z\n")
    for path in (plain, commented):
        frame = summary.read_table(path)
        assert list(frame.columns) == ["a", "b"] and frame["a"].tolist() == [1, 2]
        assert frame["b"].tolist() == ["x # y", "z"]  # a '#' inside a cell is data, not a comment


def test_words_state_directions():
    assert summary.a12_words(0.28) == "A12 0.28: lower than random in 72% of value pairs, ties counting half"
    assert summary.a12_words(0.75) == "A12 0.75: higher than random in 75% of value pairs, ties counting half"
    # 0.735 is shown as 0.73 (binary float below 0.735): the share in words follows the shown value, not 74%
    assert summary.a12_words(0.735) == "A12 0.73: higher than random in 73% of value pairs, ties counting half"
    assert summary.a12_words(0.5) == "A12 0.50: neither higher nor lower than random (ties counting half)"
    assert summary.difference_words(-0.031, -0.05, -0.012, True) == "worse than random by 0.031 (95% CI −0.050 to −0.012)"
    assert summary.difference_words(0.02, 0.001, 0.04, True) == "better than random by 0.020 (95% CI 0.001 to 0.040)"
    assert summary.difference_words(-0.004, -0.02, 0.012, False) == (
        "no detectable difference (observed: lower than random by 0.004, 95% CI −0.020 to 0.012)")
    assert summary.endpoint_words("budget_f0.1") == "at a budget of 10% of T"
    assert summary.endpoint_words("budget_n30") == "at a budget of 30 inputs"
    assert summary.endpoint_words("best") == "at the best point"


def test_pairs_needed_for_p_below_005():
    # 2 / 2**m < 0.05 from m = 6; Holm over k tests: 2k / 2**m < 0.05
    assert summary.pairs_needed(1) == 6 and 2 / 2 ** 5 >= 0.05 > 2 / 2 ** 6
    assert summary.pairs_needed(2) == 7
    assert summary.pairs_needed(5) == 8 and 10 / 2 ** 7 >= 0.05 > 10 / 2 ** 8


def test_three_repetitions_say_why_no_p_below_005():
    up = [0.80, 0.82, 0.84]
    stats = stats_frame({("best", "random"): [0.70, 0.71, 0.72], ("best", "a"): up, ("best", "b"): [0.69, 0.70, 0.73]},
                        3)
    rows = summary.versus_random(stats)
    a = rows[rows["metric"] == "a"].iloc[0].to_dict()
    line = summary.comparison_line(a, int(a["family"]))
    # a is above random in all 3 pairs, by 0.10, 0.11, 0.12: mean 0.11; the exact p is 2/8 = 0.25, Holm over 2: 0.5
    assert line.startswith("`a` at the best point: no detectable difference (observed: higher than random by 0.110, 95% CI")
    assert "p 0.25, p_holm 0.5 (Holm over 2 metrics), 3 pairs" in line
    assert "p_holm cannot fall below 0.5 with 3 untied pairs, so p < 0.05 is out of reach: it needs at least 7" in line
    assert "A12 1.00: higher than random in 100% of value pairs" in line
    b = rows[rows["metric"] == "b"].iloc[0].to_dict()
    # b against random, every value pair: above in 3 of 9 (0.73 > 0.70, 0.71, 0.72), equal in 1 (0.70 = 0.70):
    # A12 = (3 + 0.5) / 9 = 0.39, lower than random in 61% of the value pairs
    assert "A12 0.39: lower than random in 61% of value pairs" in summary.comparison_line(b, 2)
    text = summary.summary_markdown(stats, "/nonexistent")
    assert "**Beat random:** no metric at any endpoint." in text
    lines = summary.key_lines(rows, {})
    assert lines[0].startswith("No metric beat random at any endpoint: 0 of 2 comparisons")
    assert lines[1].startswith("Largest observed difference (not significant): digits, fgsm, C2: `a` at the best point")
    assert lines[2].startswith("With 3 repetitions p < 0.05 is out of reach in 2 of 2 comparisons")
    assert "run at least 7 repetitions" in lines[2]
    # a metric equal to random in every repetition: all pairs tied, counted apart from the unreachable ones
    tied = stats_frame({("best", "random"): [0.70, 0.71, 0.72], ("best", "a"): up, ("best", "c"): [0.70, 0.71, 0.72]}, 3)
    third = summary.key_lines(summary.versus_random(tied), {})[2]
    assert third.startswith("With 3 repetitions p < 0.05 is out of reach in 1 of 2 comparisons (the exact signed-rank"
                            " test over the untied pairs, Holm-corrected; in 1 more every pair tied, nothing to test)")


def test_significant_result_is_named_first():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.6, 0.7, 10)
    stats = stats_frame({("best", "random"): base, ("best", "a"): base + np.linspace(0.02, 0.05, 10),
                         ("budget_f0.1", "random"): base, ("budget_f0.1", "a"): base - np.linspace(0.01, 0.03, 10)}, 10)
    rows = summary.versus_random(stats)
    assert rows["significant"].tolist() == [True, True]  # 10 of 10 pairs one way: p = 2/1024
    text = summary.summary_markdown(stats, "/nonexistent")
    assert "**Beat random:** `a` at the best point." in text
    assert "**Worse than random:** `a` at a budget of 10% of T." in text
    assert "- `a` at the best point: better than random by 0.035 (95% CI" in text
    assert "p 0.00195, p_holm 0.00195 (Holm over 1 metric), 10 pairs; A12" in text
    assert "worse than random by 0.020" in text
    lines = summary.key_lines(rows, {})
    assert lines[0].startswith("1 of 2 comparisons with random (after Holm, p_holm < 0.05) show a metric better than"
                               " random (`a`); 1 show one worse; 10 repetitions.")
    assert lines[1].startswith("Strongest: digits, fgsm, C2: `a` at the best point: better than random by 0.035")
    assert lines[2] == "Every difference to random that was observed is significant."
    with_warning = summary.key_lines(rows, {("digits", "fgsm"): {"dsa": "dsa leaks"}})
    assert with_warning[2] == "Warning: dsa leaks"


def test_ties_are_dropped_and_counted():
    stats = stats_frame({("best", "random"): [0.7, 0.7, 0.7, 0.7], ("best", "a"): [0.7, 0.71, 0.7, 0.72]}, 4)
    r = summary.versus_random(stats).iloc[0].to_dict()
    assert "2 of 4 pairs (2 tied pairs dropped)" in summary.certainty_words(r, 1)
    same = stats_frame({("best", "random"): [0.7, 0.7], ("best", "a"): [0.7, 0.7]}, 2)
    r = summary.versus_random(same).iloc[0].to_dict()
    assert summary.comparison_line(r, 1).startswith("`a` at the best point: no detectable difference (mean difference"
                                                    " 0, 95% CI 0.000 to 0.000); all 2 pairs equal: nothing to test")


def test_leakage_warns_for_an_overlapping_reference_set():
    remedies = {"dsa": {"exclude_self", "reference"}, "datis": {"exclude_self"}}
    clean, adversarial = np.zeros(50), np.linspace(0.1, 1, 10)
    found = summary.leakage({"dsa": {"layers": ["x"]}, "deepgini": {}, "nc": {}}, remedies,
                            {"dsa": (clean, adversarial)})
    assert list(found) == ["dsa"]
    assert "every clean input scores 0 (its own nearest neighbour)" in found["dsa"]
    assert "AUC 1.00" in found["dsa"] and "`exclude_self: true` or `reference: validation`" in found["dsa"]
    assert summary.leakage({"dsa": {"exclude_self": True}, "d2": {"kind": "dsa", "reference": "validation"}},
                           remedies) == {}
    datis = summary.leakage({"datis": {}}, remedies)["datis"]
    assert "`exclude_self: true` under metrics.datis" in datis and "reference: validation" not in datis


def test_summary_renders_as_rst_without_docutils_errors():
    from docutils.core import publish_parts

    stats = stats_frame({("best", "random"): [0.70, 0.71, 0.72], ("best", "soft_max"): [0.80, 0.82, 0.84]}, 3)
    warnings = {("digits", "fgsm"): {"dsa": "`dsa` | scores* 0"}}
    rst = summary.to_rst(summary.summary_markdown(stats, "/nonexistent", warnings, "c.yaml (x)"))
    parts = publish_parts(rst, writer_name="html", settings_overrides={"halt_level": 2, "report_level": 2})
    assert "What this run found" in parts["html_body"] and "soft_max" in parts["html_body"]
    assert "Warning (dsa)" in parts["html_body"]


def test_end_of_run(tmp_path):
    md, stats = tmp_path / "summary.md", tmp_path / "statistics.csv"
    assert summary.end_of_run(md, stats) == ""
    md.write_text(f"# x\n\n## {summary.KEY_HEADING}\n\n- one `a`\n- two\n- three\n\n## digits, fgsm\n\n- not this\n")
    stats.write_text("a\n1\n")
    os.utime(md, (0, 10))
    os.utime(stats, (0, 20))
    assert summary.end_of_run(md, stats) == ""  # older than the statistics it reads: a stale summary
    os.utime(md, (0, 30))
    assert summary.end_of_run(md, stats) == f"What this run found: {md}\n  - one a\n  - two\n  - three"


def test_statistics_markdown_says_why_no_p_below_005():
    stats = stats_frame({("best", "random"): [0.70, 0.71, 0.72], ("best", "a"): [0.80, 0.82, 0.84]}, 3)
    cell = statistics.statistics_markdown(stats).iloc[0, -1]
    assert "p_holm 0.25: with 3 untied pairs no p below 0.25 is possible, more repetitions needed" in cell


def test_table_html_shows_every_row():
    frame = pd.DataFrame({"metric": ["dsa", "a<b"], "acc": [0.71111, np.nan], "n": [3.0, np.nan]})
    page = summary.table_html(frame, "Table 3: x & y")
    assert "<h1>Table 3: x &amp; y</h1>" in page
    assert re.findall(r"<tr>(.*?)</tr>", page)[1:] == [
        '<td>dsa</td><td class="num">0.7111</td><td class="num">3</td>',
        '<td>a&lt;b</td><td class="num"></td><td class="num"></td>']


@pytest.mark.workflow
def test_tiny_run_summary(tiny_run):
    text = (tiny_run / "results/summary.md").read_text()
    stats = summary.read_table(tiny_run / "results/tables/statistics.csv")
    assert text.startswith("# What this run found")
    # tiny.yaml: DSA and LSA score Train* against Train itself; every clean input is its own nearest neighbour
    assert "**Warning (dsa):** `dsa` scores Train* against Train's own traces" in text
    assert "every clean input scores 0 (its own nearest neighbour)" in text
    assert "**Warning (nc):**" not in text and "**Warning (deepgini):**" not in text
    # one line per comparison with random: 5 metrics x 3 configurations x 2 endpoints (best, auc)
    rows = summary.versus_random(stats)
    assert len(rows) == 30 and len(re.findall(r"^- `\w+` (at|over) ", text, flags=re.M)) == 30
    assert "[Table 3](tables/table3.md)" in text and "[Figure 3](figures/figure3_digits_fgsm.png)" in text
    for link in re.findall(r"\]\(([^)]+)\)", text):
        assert (tiny_run / "results" / link).exists(), link
    # the end of the run printed the summary's path and its three key lines
    out = (tiny_run / "snakemake.out").read_text()
    assert "What this run found: results/summary.md" in out
    for line in summary.read_key_lines(tiny_run / "results/summary.md"):
        assert f"  - {line.replace('`', '')}" in out


def test_nothing_to_compare_is_said_in_words():
    only_random = stats_frame({("best", "random"): [0.7, 0.71]}, 2)
    text = summary.summary_markdown(only_random, "/nonexistent")
    assert "- No comparison with random was made" in text
    assert "No comparison with random (a single metric, or no repetitions)." in text
    empty = summary.summary_markdown(only_random.iloc[0:0], "/nonexistent")
    assert "- No comparison with random was made" in empty and "## digits" not in empty


def test_ties_not_repetitions_put_p_out_of_reach():
    base = np.linspace(0.60, 0.69, 10)
    tied = base.copy()
    tied[:5] += 0.01  # 5 pairs differ, 5 tie: the exact test keeps 5 untied pairs, p >= 2/32 = 0.0625
    stats = stats_frame({("best", "random"): base, ("best", "a"): tied}, 10)
    rows = summary.versus_random(stats)
    assert rows["n_nonzero"].tolist() == [5]
    third = summary.key_lines(rows, {})[2]
    assert third.startswith("In 1 of 1 comparisons too many of the 10 pairs tied")
    assert "needs at least 6 untied pairs" in third and "With 10 repetitions" not in third


def test_power_is_never_below_what_the_exact_test_can_reach():
    row = {"n": 3, "n_nonzero": 3, "p": 0.25, "p_holm": 1.0, "significant": False, "reps_for_80_power": 3.0}
    text = summary.certainty_words(row, 5)  # Holm over 5 metrics: p_holm < 0.05 needs 8 untied pairs
    assert text.endswith("; 80% power at the observed difference: 8 repetitions (a paired t-test would need 3; the"
                         " exact test needs at least 8 untied pairs)")
    row["reps_for_80_power"] = 12.0
    assert summary.certainty_words(row, 5).endswith("; 80% power at the observed difference: 12 repetitions")
    assert summary.certainty_words({**row, "n_nonzero": 0, "n": 1}, 5) == "all 1 pair equal: nothing to test"
