"""The files of a result table: a plain CSV, its provenance in JSON beside it, and Markdown with a footnote.

For a table ``results/tables/<name>`` (:func:`guided_retraining.tables.write`):

- ``<name>.csv``: the data only, header on the first line, so ``pandas.read_csv(path)`` gives the table;
- ``<name>.json``: its provenance (:func:`provenance`): the title, the source (config files and the
  effective config's digest, plus the devices the results came from when not all on the CPU), the
  CSV's columns and row count, and the versions and hardware of the process that wrote it
  (:func:`guided_retraining.io.result_provenance`);
- ``<name>.md``: the title, the source, the table for reading and a footnote that defines the terms
  the table uses (:func:`footnote`: only those it uses, found in its title and text).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

# (term, pattern that finds it in a table's title or text, definition): the footnote lists, in this order,
# every term whose pattern occurs.
GLOSSARY = [
    ("Train*", r"Train\*", "Train* = Train + Adv.Train: the clean training inputs and their adversarial versions;"
                           " the set the metrics score and order."),
    ("Test*", r"Test\*", "Test* = Test + Adv.Test: the clean test inputs and the attack's adversarial version of"
                         " every one (accuracy on Test* is the study's measure)."),
    ("Val*", r"Val\*", "Val* = Val + Adv.Val: the validation inputs and their adversarial versions; the best point"
                       " is chosen on it (aggregate.select_on: validation), so Test is never read to choose."),
    ("Adv.Test", r"\bAdv\.Test\b(?!\*)", "Adv.Test: the attack applied to every clean test input."),
    ("C1, C2, C3", r"\bC[123]\b", "C1: retrained from new random weights on Train*; C2: from the original"
                                  " model's weights on Train*; C3: from the original model's weights on Adv.Train"
                                  " only. Each ordered by the metric (descending score)."),
    ("original", r"\boriginal\b", "original: the model trained once on Train before any retraining (or, as a"
                                  " row, that model's result)."),
    ("rep", r"\brep\b|\brepetitions?\b", "rep / repetitions: a repetition is a whole rerun of the study from"
                                         " its own seed (split, original model, attacks, retraining); the"
                                         " repetitions are the pairs of the paired comparisons."),
    ("best point", r"\bbest\b", "best point: per repetition, the data point (prefix of the ordered inputs) with"
                                " the highest accuracy on the selection split named in the title; ties go to"
                                " fewer inputs."),
    ("u/T", r"\bu/T\b|\(\d+/\d+\)", "u/T: u inputs used at the best point of the T available (Train* for C1"
                                    " and C2, Adv.Train for C3); a cell 'acc (u/T)' is the Test* accuracy there."),
    ("endpoint", r"\bendpoints?\b", "endpoint: best = Test* accuracy at the best point; auc = normalised area"
                                    " under the accuracy-against-inputs curve; budget_<f> / budget_<n> = Test*"
                                    " accuracy with a fixed budget of a fraction f of T or n inputs."),
    ("paired difference", r"paired difference|\bdiff", "paired difference: metric minus the other in the same"
                                                       " repetition, mean over the repetitions, with its 95%"
                                                       " Student t-interval [low, high]."),
    ("paired share", r"paired share", "paired share: the share of repetitions in which the metric beats the"
                                      " other (ties count half); 0.5 = no difference."),
    ("p_holm", r"\bp_holm\b|Holm", "p / p_holm: exact two-sided Wilcoxon signed-rank p over the paired"
                                   " differences (zeros dropped), Holm-corrected within dataset, attack,"
                                   " configuration and endpoint; '*' or significant = p_holm < 0.05. With m"
                                   " non-zero pairs no p below 2/2^m is reachable."),
    ("A12", r"\bA12\b|\ba12", "A12: unpaired Vargha-Delaney effect size, P(metric > other) + 0.5 P(tie) over all"
                              " pairs of values; above 0.5 the metric is better, below worse."),
    ("80% power", r"80% power|reps_for_80_power", "80% power: repetitions a paired t-test at two-sided 0.05"
                                                  " needs to detect the observed mean difference with the"
                                                  " observed sd."),
    ("n/a", r"\bn/a\b", "n/a: not computable here; the reason is given in the cell (e.g. one repetition has no"
                        " sd or interval; all pairs tied leave nothing to test)."),
    ("bold", r"\*\*", "bold: the single best metric of the row (highest accuracy)."),
    ("tie", r"\(tie\)", "(tie): the best accuracy of the row is shared by several metrics; none is bold."),
    ("hh:mm:ss", r"hh:mm:ss", "hh:mm:ss: total_seconds (wall time) in hours, minutes and seconds."),
]


# The terms whose definition differs when the grid's new inputs include distribution shifts (guided_retraining.shifts):
# a shift makes Adv.Train, Adv.Val and Adv.Test the way an attack does, but they are not adversarial.
SHIFT_GLOSSARY = {
    "Train*": "Train* = Train + Adv.Train: the clean training inputs and the new inputs (an attack's adversarial"
              " versions, or a shift's shifted inputs); the set the metrics score and order.",
    "Test*": "Test* = Test + Adv.Test: the clean test inputs and the new test inputs (an attack's adversarial"
             " version of every one, or a shift's test set); accuracy on Test* is the study's measure.",
    "Val*": "Val* = Val + Adv.Val: the validation inputs and the new validation inputs (adversarial or shifted);"
            " the best point is chosen on it (aggregate.select_on: validation), so Test is never read to choose.",
    "Adv.Test": "Adv.Test: the new test inputs: the attack applied to every clean test input, or the shift's test"
                " set (corrupted Test, another dataset's images, or Test resampled to other class priors).",
    "shift": "shift: a row whose new inputs are a distribution shift, not an attack; its kind in brackets"
             " (corruption, natural, label_shift: docs/shifts.md).",
}


def footnote(*texts: str, shifts: bool = False) -> str:
    """The Markdown footnote defining each :data:`GLOSSARY` term found in ``texts`` (a table's title and
    Markdown), one bullet per term in the glossary's order; empty when none occurs. ``shifts``: some rows
    are distribution shifts, so the terms of :data:`SHIFT_GLOSSARY` take its definitions and ``shift`` is
    defined."""
    joined = "\n".join(texts)
    glossary = GLOSSARY + ([("shift", r"\bshift\b", "")] if shifts else [])
    found = [f"- {SHIFT_GLOSSARY.get(term, definition) if shifts else definition}"
             for term, pattern, definition in glossary if re.search(pattern, joined)]
    return "Terms:\n\n" + "\n".join(found) if found else ""


def new_inputs_column(shifts: dict[str, str], names) -> str:
    """The header of the column naming the grid's new inputs (the tables' ``attack`` key): ``attack`` when no
    row is a shift, ``shift`` when every row is, ``attack or shift`` otherwise. ``shifts``: name -> kind of
    the config's entries that are shifts."""
    names = list(names)
    n = sum(name in shifts for name in names)
    return "attack" if n == 0 else "shift" if n == len(names) else "attack or shift"


def shift_label(name: str, shifts: dict[str, str] | None) -> str:
    """How a table names a row's or column's new inputs: a shift's name followed by its kind
    (``noise2 (corruption)``), an attack's name as it is."""
    return f"{name} ({shifts[name]})" if shifts and name in shifts else name


def label_shifts(frame: pd.DataFrame, shifts: dict[str, str] | None) -> pd.DataFrame:
    """``frame`` (a table for reading) with its ``attack`` column named by :func:`new_inputs_column` and each
    shift's name followed by its kind (``noise2 (corruption)``); unchanged when no row is a shift."""
    if not shifts or "attack" not in frame.columns or not frame["attack"].isin(list(shifts)).any():
        return frame
    header = new_inputs_column(shifts, frame["attack"])
    labelled = frame["attack"].map(lambda a: shift_label(a, shifts))
    return frame.assign(attack=labelled).rename(columns={"attack": header})


def json_path(csv_path) -> Path:
    """Where a table's provenance goes: ``<name>.json`` beside ``<name>.csv``."""
    return Path(csv_path).with_suffix(".json")


def provenance(frame: pd.DataFrame, csv_path, md_path, title: str, source: str) -> dict:
    """What :func:`json_path` holds: ``title``, ``source``, the file names of the CSV and Markdown, the
    CSV's ``columns`` and ``rows``, and ``versions`` / ``hardware`` of the writing process."""
    from .io import result_provenance

    return {"title": title, "source": source, "csv": Path(csv_path).name, "markdown": Path(md_path).name,
            "columns": [str(c) for c in frame.columns], "rows": int(len(frame)), **result_provenance("cpu")}

