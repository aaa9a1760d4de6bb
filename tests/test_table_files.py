"""Table files: plain CSVs readable by pandas, provenance JSON beside them, Markdown with defined terms, no nan."""

import json

import pandas as pd
import pytest

from guided_retraining import statistics, table_files, tables


def test_footnote_defines_only_the_terms_a_table_uses():
    note = table_files.footnote("Table 3: accuracy on Test* at the best point (u/T)",
                                "| configuration | dsa |\n| C1 | **0.8000** (5/10) |")
    assert "Test* = Test + Adv.Test" in note and "C1: retrained from new random weights on Train*" in note
    assert "u/T: u inputs used" in note and "best point:" in note and "bold: the single best" in note
    assert "endpoint:" not in note and "paired share:" not in note and "(tie):" not in note
    assert table_files.footnote("Defences", "| defence | fgsm |") == ""


def test_markdown_of_a_written_table_ends_with_its_terms(tmp_path):
    frame = pd.DataFrame({"dataset": ["d"], "configuration": ["C3"], "metric": ["dsa"], "acc": [0.5]})
    tables.write(frame, tmp_path / "t.csv", tmp_path / "t.md", "Accuracy on Test*", "my.yaml")
    md = (tmp_path / "t.md").read_text()
    body, note = md.split("\nTerms:\n")
    assert "| C3" in body and "C3: from the original model's weights on Adv.Train only" in note
    assert "Test* = Test + Adv.Test" in note and "Train* = Train + Adv.Train" not in note.split("C1:")[0]


def values(metric_values: dict[str, list[float]], endpoint="best") -> pd.DataFrame:
    """Endpoint values of one dataset/attack/configuration, one list of repetitions' values per metric."""
    return pd.DataFrame([{"dataset": "d", "attack": "a", "configuration": "C2", "endpoint": endpoint, "metric": m,
                          "rep": r + 1, "value": v, "inputs_used": 10}
                         for m, vs in metric_values.items() for r, v in enumerate(vs)])


def test_pairs_markdown_says_why_instead_of_nan():
    tied = statistics.pairs(values({"dsa": [0.8, 0.7, 0.9], "random": [0.8, 0.7, 0.9], "nc": [0.9, 0.8, 0.9]}))
    one = statistics.pairs(values({"dsa": [0.8], "random": [0.7]}, endpoint="auc"))
    frame = pd.concat([tied, one], ignore_index=True)
    assert frame.isna().any().any()  # the CSV's numbers keep their NaN where nothing is defined
    md = statistics.pairs_markdown(frame)
    text = md.to_markdown(index=False)
    assert "nan" not in text.lower()
    assert len(md) == 3 + 1  # each unordered pair once
    dsa_random = md[(md.metric == "dsa") & (md.other == "random")].iloc[0]
    assert dsa_random["mean paired difference [95% CI]"] == "0 (n/a — all 3 pairs tied)"
    assert dsa_random["p_holm"] == "n/a — all 3 pairs tied: nothing to test"
    single = md[md.endpoint == "auc"].iloc[0]
    assert single["mean paired difference [95% CI]"] == "+0.1000 [n/a — 1 repetition: no interval]"
    dsa_nc = md[(md.metric == "dsa") & (md.other == "nc")].iloc[0]
    assert dsa_nc["pairs (non-zero/n)"] == "2/3" and dsa_nc["paired share"] == "0.17"


def test_statistics_markdown_has_no_nan_with_one_repetition():
    v = values({"dsa": [0.8], "random": [0.7]})
    stats = statistics.statistics_table(statistics.summary(v), statistics.pairs(v))
    text = statistics.statistics_markdown(stats).to_markdown(index=False)
    assert "nan" not in text.lower()
    assert "0.8000 (n/a — 1 repetition: no sd)" in text and "+0.1000 [n/a — 1 pair: no interval]" in text


@pytest.mark.workflow
def test_every_table_of_a_run_reads_with_plain_pandas(tiny_run):
    """pd.read_csv (no options) gives each table's columns, the JSON beside it parses and names them,
    and no Markdown table shows nan."""
    folder = tiny_run / "results/tables"
    csvs = sorted(folder.glob("*.csv"))
    assert {p.stem for p in csvs} >= {"table3", "table4", "table5", "statistics", "statistics_pairs",
                                      "retraining_time", "adversarial_share", "cross_attack"}
    for path in csvs:
        frame = pd.read_csv(path)
        provenance = json.loads(path.with_suffix(".json").read_text())
        assert list(frame.columns) == provenance["columns"], path.name
        assert len(frame) == provenance["rows"] > 0, path.name
        assert not any(str(c).startswith(("Unnamed", "#")) for c in frame.columns), path.name
        assert provenance["source"].startswith("tiny.yaml (effective config sha256 "), path.name
        md = path.with_suffix(".md").read_text()
        assert md.startswith(f"# {provenance['title']}\n") and "\nTerms:\n" in md, path.name
        assert "| nan" not in md and " nan " not in md, path.name
    t3 = pd.read_csv(folder / "table3.csv")
    assert list(t3.columns) == ["dataset", "attack", "rep", "configuration", "metric", "original", "best_acc",
                                "inputs_used", "inputs_total", "utilisation", "selected_on"]
    assert t3["best_acc"].between(0, 1).all() and len(t3) == 3 * 6
