"""The result tables and figures: one declaration each, read by the rules and by the aggregate script.

A :class:`Table` names its file stem (``results/tables/<name>.{csv,json,md}``), the function that computes
it, the heading written into its files, its caption in the report (``workflow/report/<caption>.rst``), its
place in the report and the rule that writes it, and its row in docs/figures-and-tables.md. From
:data:`TABLES` derive: what ``scripts/aggregate.py`` writes (:func:`of_rule`), the rules' outputs and report
entries (``REPORT_TABLES``, ``OBJECTIVES_TABLES``, ``REPORT_TABLE_ORDER`` in workflow/rules/common.smk)
and the docs' list of tables (:func:`docs_rows`, rewritten by ``python -m guided_retraining.regenerate``).
:data:`FIGURES` does the same for the per dataset and attack figures of the aggregate (drawn by the script).

Adding a table to the aggregate is one declaration here and one function of :class:`StudyResults`
(tests/test_table_registry.py fails while its caption file, its docs row or its rule output is missing).
A table from outside the package: a module that calls :func:`register`, named in the config's ``plugins``
(or ``extra_tables``) list (the workflow and the aggregate script import it, :mod:`guided_retraining.plugins`);
its caption is a file path of its own (docs/figures-and-tables.md, "Adding a table"; docs/plugins.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import pandas as pd

from . import statistics, tables
from .errors import ConfigError, DataError

#: the rules that write result tables
RULES = ("aggregate", "objectives", "defence_table", "deepcustom_table", "suspiciousness")


@dataclass(frozen=True)
class Table:
    """One result table.

    ``compute(results)`` (aggregate tables only; the other rules compute theirs in their scripts) gets the
    :class:`StudyResults` and returns the frame, or (frame, Markdown frame) when the Markdown is laid out
    differently. ``heading`` is the title written into the files, formatted with :meth:`StudyResults.words`.
    ``title`` is the report's label; ``caption`` the caption's stem in workflow/report/, or an absolute path
    (a table declared outside the package); ``order`` its place among the report's tables (None: the rule
    shows it in a report category of its own, or not at all). ``rows`` / ``columns``: its docs row.
    """

    name: str
    rule: str
    title: str
    rows: str
    columns: str
    compute: Callable | None = None
    heading: str = ""
    caption: str | None = None
    order: int | None = None

    def caption_file(self, root: Path) -> Path | None:
        """The caption's file under the repository ``root`` (None: the table has none)."""
        if self.caption is None:
            return None
        return Path(self.caption) if Path(self.caption).is_absolute() else root / f"workflow/report/{self.caption}.rst"

    def report_caption(self) -> str:
        """The caption as ``report(caption=...)`` takes it, relative to workflow/rules/."""
        return self.caption if Path(self.caption).is_absolute() else f"../report/{self.caption}.rst"

    def frames(self, results: StudyResults) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """(CSV frame, Markdown frame or None) of this table over ``results``."""
        out = self.compute(results)
        return out if isinstance(out, tuple) else (out, None)


@dataclass(frozen=True)
class Figure:
    """One figure of the aggregate per dataset and attack (``results/figures/<name>_<dataset>_<attack>``)."""

    name: str
    title: str
    caption: str


class StudyResults:
    """The per-job results of the whole grid and what several tables share (computed once, when first read)."""

    def __init__(self, records: list[dict], attacks: list[dict], scores: list[dict], select_on: str,
                 include_original: bool, budgets: list[str], grid: list):
        self.records, self.attacks, self.scores = records, attacks, scores
        self.select_on, self.include_original, self.budgets, self.grid = select_on, include_original, budgets, grid

    @cached_property
    def points(self) -> pd.DataFrame:
        return tables.points_frame(self.records)

    @cached_property
    def original(self) -> dict:
        return {(a["dataset"], a["attack"], a["rep"]): {"acc_test_star": a["original_acc_test_star"],
                                                        "acc_val_star": a["original_acc_val_star"]}
                for a in self.attacks}

    @cached_property
    def table3(self) -> pd.DataFrame:
        return tables.table3(self.points, self.original, self.include_original, self.select_on)

    @cached_property
    def best(self) -> pd.DataFrame:
        return tables.best_points(self.points, self.select_on)

    @cached_property
    def values(self) -> pd.DataFrame:
        values = statistics.endpoint_values(self.points, self.best)
        missing = sorted(set(f"budget_{b}" for b in self.budgets) - set(values["endpoint"]))
        if missing:
            raise DataError(f"no retraining results for the budget endpoints {', '.join(missing)} of"
                            " aggregate.budgets")
        return values

    @cached_property
    def summary(self) -> pd.DataFrame:
        return statistics.summary(self.values)

    @cached_property
    def pairs(self) -> pd.DataFrame:
        return statistics.pairs(self.values)

    @cached_property
    def against_random(self) -> pd.DataFrame:
        """The pairs against random at the fixed budgets, with the mean inputs used (the budget figures)."""
        pairs, group = self.pairs, statistics.ENDPOINT_GROUP
        return pairs[(pairs["other"] == "random") & pairs["endpoint"].str.startswith("budget_")].merge(
            self.summary[group + ["metric", "inputs_used_mean"]], on=group + ["metric"])

    def words(self) -> dict[str, str]:
        """The settings' words the headings name: ``chosen`` (where the best point is chosen), ``endpoints``."""
        chosen = {"validation": "chosen on Val* = Val + Adv.Val",
                  "test": "chosen on Test* (the study's way)"}[self.select_on]
        endpoints = (f"endpoints: best = Test* accuracy at the best point ({chosen}), auc = normalised AUC,"
                     " budget_<f fraction of T | n count> = Test* accuracy at that fixed budget")
        return {"chosen": chosen, "endpoints": endpoints}


def _statistics(r: StudyResults):
    stats = statistics.statistics_table(r.summary, r.pairs)
    return stats, statistics.statistics_markdown(stats)


# In the order the aggregate writes them and the report pages list them (REPORT_TABLES' order).
_DECLARED = [
    Table("table3", "aggregate", "Table 3: best accuracy on Test* and inputs used",
          "dataset, attack, repetition, configuration, metric",
          "`original` (the original model's Test* accuracy), `best_acc` (Test* accuracy at the best point),"
          " `inputs_used` (u), `inputs_total` (T), `utilisation` (u/T), `selected_on` (`validation` or `test`)",
          lambda r: (r.table3, tables.table3_markdown(r.table3)),
          "Table 3: accuracy on Test* at the best point ({chosen}) and inputs used (u/T)", "table3", 1),
    Table("table4", "aggregate", "Table 4: C2 at C3's input count against C3",
          "dataset, attack, repetition, metric",
          "`inputs_C2` (C3's total, the inputs C2 retrains on), `acc_C2`, `inputs_C3` (C3's inputs at its best"
          " point), `acc_C3`, `difference` (acc_C2 − acc_C3)",
          lambda r: tables.table4(r.points, r.table3),
          "Table 4: C2 at C3's total input count against C3 at its best point ({chosen})", "table4", 2),
    Table("table5", "aggregate", "Table 5: metric time, charged what it reads",
          "dataset, attack, repetition, metric",
          "`scored_inputs`, `reads` (the forward passes the metric reads), `seconds` / `cpu_seconds` (the metric"
          " alone), `traces_*` and `softmax_*` (what it reads), `total_seconds`, `total_cpu_seconds`, `hh:mm:ss`"
          " (total wall time)",
          lambda r: tables.table5(r.scores),
          "Table 5: metric time over the scored set Train*, charged only what it reads (seconds: the metric;"
          " traces_seconds / softmax_seconds: the forward passes it reads, over Train*; total_seconds: all)",
          "table5", 3),
    Table("retraining_time", "aggregate", "Retraining time per configuration and metric (wall and CPU)",
          "dataset, attack, configuration, metric",
          "`points`, `repetitions`, `seconds`, `cpu_seconds` (retraining summed over the data points, mean over"
          " repetitions), `hh:mm:ss`",
          lambda r: tables.retraining_time(r.records),
          "Retraining time: wall and CPU seconds of retraining per configuration and metric, summed over the data"
          " points, mean over the repetitions", "retraining_time", 6),
    Table("adversarial_share", "aggregate", "Adversarial share of each data point's inputs",
          "dataset, attack, metric, data point",
          "`point` (k), `inputs` (the first `inputs` of Train* in the metric's order), `adversarial_share` (share"
          " of them from Adv.Train; repetition 1)",
          lambda r: tables.adversarial_shares(r.points, r.grid),
          "Adversarial share of the inputs each data point of C1/C2 uses", "adversarial_share_table", 7),
    Table("cross_attack", "aggregate", "Accuracy on the Adv.Test of every attack (model x attack)",
          "original model, or retrained model at its best point",
          "`dataset`, `rep`, `model`, `trained_on`, `configuration`, `metric`, `inputs_used`, `adv_<attack>`"
          " (accuracy on that attack's Adv.Test)",
          lambda r: tables.cross_attack(r.records, r.attacks, r.table3),
          "Accuracy on the Adv.Test of every attack (model x attack; retrained models at the best point, {chosen})",
          "cross_attack", 8),
    Table("statistics", "aggregate", "Statistics over repetitions: paired differences to random per endpoint",
          "dataset, attack, configuration, endpoint, metric",
          "`n`, `mean`, `sd`, `ci_low`, `ci_high` (95% t-interval), `inputs_used_mean`; against random:"
          " `n_nonzero`, `diff_mean`, `diff_sd`, `diff_ci_low`, `diff_ci_high`, `paired_share`, `p`, `p_holm`,"
          " `significant`, `a12_unpaired`, `reps_for_80_power`, `note`",
          _statistics,
          "Statistics over repetitions ({endpoints}): mean, sd, 95% t-interval; against random (Holm over the"
          " comparisons with random per endpoint): n pairs, n_nonzero, mean paired difference with its 95%"
          " t-interval, paired share (ties half), exact Wilcoxon signed-rank p (zeros dropped, average ranks),"
          " p_holm, unpaired A12, repetitions for 80% power", "statistics", 4),
    Table("statistics_pairs", "aggregate", "Every metric against every other: paired differences, Wilcoxon (Holm)",
          "dataset, attack, configuration, endpoint, ordered pair (`metric`, `other`)",
          "as `statistics` against `other` (Holm over every pair); the Markdown shows each unordered pair once",
          lambda r: (r.pairs, statistics.pairs_markdown(r.pairs)),
          "Every metric against every other ({endpoints}): the paired comparison, Holm-corrected over every pair"
          " within dataset, attack, configuration and endpoint", "statistics_pairs", 5),
    Table("objectives", "objectives", "Objectives: fault detection, estimation, retraining against random",
          "dataset, attack, objective, scope, endpoint, metric",
          "`budget`, `inputs_mean`, `better`, `n`, `mean`, `sd`, `ci_low`, `ci_high`, `random_expected`, `ideal`;"
          " against random: `n_nonzero`, `gain_mean`, `gain_sd`, `gain_ci_low`, `gain_ci_high`, `paired_share`,"
          " `p`, `p_holm`, `significant`, `a12_unpaired`, `reps_for_80_power`, `note` ([objectives](objectives.md))",
          heading="Objectives of test selection over repetitions: fault detection (apfd; found_<budget>: share"
          " of the original model's misclassified inputs among the first b), performance estimation"
          " (abs_error_<budget>: |accuracy on the first b - accuracy on the pool|), retraining"
          " (accuracy_<budget>: Test* accuracy retrained on the first b); scope: the pool ranked"
          " (Train*, or its Adv.Train part) or the configuration; mean, sd, 95% t-interval;"
          " random_expected / ideal: a random order's expected value and the best order's; against"
          " random, paired over repetitions: gain (> 0 better: metric - random, random - metric for"
          " abs_error) with its 95% t-interval, paired share (ties half), exact Wilcoxon signed-rank p,"
          " Holm over the comparisons with random per dataset, attack, objective, scope and endpoint",
          caption="objectives", order=9),
    Table("objectives_overview", "objectives", "Which metric for which attack or shift and objective",
          "dataset, objective, scope, endpoint, attack or shift",
          "`n`, `best` (the metric with the largest mean gain over random), its `gain_mean`, `gain_ci_low`,"
          " `gain_ci_high`, `paired_share`, `p_holm`; `better_by_ci` / `worse_by_ci` (metrics whose 95% interval"
          " lies above / below 0), `compared`, `ranking` (every metric by mean gain, best first)",
          heading="Which metric for which attack or shift and objective: per objective, scope and endpoint, the"
          " metric with the largest mean paired gain over random (> 0 better) with its 95% t-interval, and how"
          " many metrics' intervals lie above or below 0 (from the objectives table)",
          caption="objectives_overview", order=10),
    Table("defences", "defence_table", "Defences: accuracy on Test under each attack", "dataset, defence",
          "`repetitions`, one accuracy column per attack (`none` = clean Test)",
          heading="Defences: accuracy on Test under each attack (made against the defended model)",
          caption="defences"),
    Table("defences_transfer", "defence_table", "Defences, transfer protocol: accuracy and loss on Test",
          "dataset, defence", "as `defences`, plus `<attack>_loss`",
          heading="Defences, transfer protocol (run 004): accuracy and loss on Test under each attack made"
          " against the undefended model",
          caption="defences"),
    Table("deepcustom", "deepcustom_table", "Seed 003's robustness matrix (transfer)", "dataset, model",
          "`repetitions`, one accuracy column per attack",
          heading="Seed 003's robustness matrix (the seed's protocol): accuracy on Test of each model (row) on"
          " each attack's (column) Adv.Test, made once against the original model",
          caption="deepcustom"),
    Table("deepcustom_whitebox", "deepcustom_table", "Robustness matrix, white-box", "dataset, model",
          "as `deepcustom`",
          heading="Robustness matrix, white-box (the project's option): accuracy on Test of each model (row)"
          " under each attack (column) re-run against that model (DGN data from the generators trained"
          " against the original)",
          caption="deepcustom"),
    Table("suspiciousness_<dataset>_r<rep>", "suspiciousness", "Tarantula suspiciousness of the original model's"
          " units", "class and suspicious unit", "`class`, `rank`, `layer`, `unit`, `tarantula`, `a_f`, `a_s`, `F`,"
          " `S`"),
]

#: every declared table, by name, in declaration order (the package's first, then :func:`register`'s)
TABLES: dict[str, Table] = {t.name: t for t in _DECLARED}

#: the aggregate's figures per dataset and attack, in the report's order
FIGURES: dict[str, Figure] = {f.name: f for f in [
    Figure("figure3", "Figure 3: accuracy on Test* against inputs used", "figure3"),
    Figure("scores", "Score distributions: clean against adversarial inputs", "scores"),
    Figure("adversarial_share", "Adversarial share of each data point's inputs", "adversarial_share_figure"),
    Figure("budgets", "Paired difference to random at fixed budgets (beside Figure 3)", "budgets"),
    Figure("paired_share", "Paired share of every metric against every other (significant cells marked)",
           "paired_share"),
]}


def register(table: Table) -> None:
    """Add a table declared outside the package (a module of the config's ``plugins`` or ``extra_tables``); its
    rule: ``aggregate``, its caption: an absolute path, its name: not one already declared."""
    from .plugins import check_new, key

    check_new("table", getattr(table, "name", None), TABLES, table, Table)
    if table.rule != "aggregate" or table.compute is None:
        raise ConfigError(f"{key()}: table {table.name!r}: expected rule 'aggregate' and a compute function")
    if table.caption is None or not Path(table.caption).is_absolute():
        raise ConfigError(f"{key()}: table {table.name!r}: expected caption as an absolute path to an .rst file")
    TABLES[table.name] = table


def load_extra(modules: list[str]) -> None:
    """Import each module of the config's ``extra_tables`` (each calls :func:`register`); the older name of
    ``plugins`` (:func:`guided_retraining.plugins.load`)."""
    from .plugins import load

    load(modules, key="extra_tables")


def of_rule(rule: str) -> list[Table]:
    """The tables ``rule`` writes, in declaration order."""
    return [t for t in TABLES.values() if t.rule == rule]


def report_tables(rule: str) -> dict[str, tuple[str, str]]:
    """name -> (caption for report(), title) of the tables of ``rule`` shown among the report's tables."""
    return {t.name: (t.report_caption(), t.title) for t in of_rule(rule) if t.order is not None}


def report_order() -> list[str]:
    """The names of the report's tables in their report order (those without an order: after, as declared)."""
    shown = [t for t in TABLES.values() if t.order is not None]
    return [t.name for t in sorted(shown, key=lambda t: t.order)]


def docs_rows() -> str:
    """The table of docs/figures-and-tables.md's "The tables": one row per table of the package."""
    head = "| file | one row per | columns |\n|---|---|---|\n"
    return head + "".join(f"| `{t.name}` | {t.rows} | {t.columns} |\n" for t in _DECLARED)
