"""The study's tables from the per-job JSON results.

- Table 3: per dataset, attack, repetition, configuration and metric, the accuracy on
  Test* at the best data point, the inputs used there (u) and available (T). The best point
  is chosen on Val* = Val + Adv.Val (``select_on="validation"``, the default: Test is never
  read to choose) or, as the study did, on Test* itself (``select_on="test"``).
- Table 4: per dataset, attack and metric, C2 retrained on as many inputs as C3's
  total against C3 at its Table 3 best point.
- Table 5: the time of each metric over the scored set, charged only the forward passes it reads.
- Retraining time: wall and CPU seconds of retraining per configuration and metric (seed 001's
  third outcome), summed over the data points, mean over repetitions.

Each is written (:func:`write`) as a plain CSV (tidy, one row per cell of the grid), its provenance in
JSON beside it and Markdown (the paper's layout, with a footnote defining its terms): see
:mod:`guided_retraining.table_files`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .io import atomic_path
from .retraining import is_regular

KEYS = ["dataset", "attack", "rep", "configuration", "metric"]


def points_frame(records: list[dict]) -> pd.DataFrame:
    """One row per retrained model: the keys (``rep``: the repetition, 1 when a result has none),
    point, inputs used/available and accuracies."""
    cols = KEYS + ["point", "inputs_used", "inputs_total", "adversarial_used", "acc_test_star", "acc_test",
                   "acc_adv_test", "acc_val_star"]
    frame = pd.DataFrame([{c: r.get(c, 1) if c == "rep" else r[c] for c in cols} for r in records], columns=cols)
    return frame.sort_values(KEYS + ["inputs_used"], kind="stable").reset_index(drop=True)


SELECT_ON = {"validation": "acc_val_star", "test": "acc_test_star"}


def selection_column(select_on: str) -> str:
    """The accuracy the best point is chosen on: Val* (``validation``) or Test* (``test``)."""
    if select_on not in SELECT_ON:
        raise ValueError(f"aggregate.select_on: expected one of {', '.join(SELECT_ON)}, got {select_on!r}")
    return SELECT_ON[select_on]


def best_points(points: pd.DataFrame, select_on: str = "validation") -> pd.DataFrame:
    """The best data point of each (dataset, attack, rep, configuration, metric): the regular points'
    (:func:`is_regular`: the study's curve, budget points left out) row with the highest accuracy on Val*
    (``validation``) or Test* (``test``); ties go to fewer inputs.

    With ``validation`` the choice reads only Val* = Val + Adv.Val, so the Test* accuracy reported
    at the chosen point is an unbiased estimate (the study chose and reported on Test*).
    Columns: the keys, ``point``, ``inputs_used``, ``inputs_total``, ``acc_val_star``,
    ``acc_test_star`` (at the chosen point) and ``selected_on``.
    """
    column = selection_column(select_on)
    regular = points[points["point"].map(is_regular)]
    cols = KEYS + ["point", "inputs_used", "inputs_total", "acc_val_star", "acc_test_star"]
    if regular.empty:
        return pd.DataFrame(columns=cols + ["selected_on"])
    ranked = regular.sort_values(KEYS + [column, "inputs_used"], ascending=[True] * len(KEYS) + [False, True],
                                 kind="stable")
    best = ranked.groupby(KEYS, sort=True).head(1)[cols].copy()
    best["inputs_total"] = regular.groupby(KEYS, sort=True)["inputs_total"].max().to_numpy()
    return best.assign(selected_on=select_on).reset_index(drop=True)


def table3(points: pd.DataFrame, original: dict[tuple, dict], include_original: bool = False,
           select_on: str = "validation") -> pd.DataFrame:
    """Test* accuracy at the best point (:func:`best_points`) per (dataset, attack, rep, configuration, metric).

    ``original`` maps (dataset, attack, rep) to the original model's ``acc_test_star`` and
    ``acc_val_star``. With ``include_original`` the original model competes as a point with 0
    inputs (as the replication notebooks did), on the same split as the points.
    """
    column = selection_column(select_on)
    rows = []
    for best in best_points(points, select_on).to_dict("records"):
        orig = original[(best["dataset"], best["attack"], best["rep"])]
        acc, used = float(best["acc_test_star"]), int(best["inputs_used"])
        if include_original and orig[column] > best[column]:
            acc, used = orig["acc_test_star"], 0
        total = int(best["inputs_total"])
        rows.append({**{k: best[k] for k in KEYS}, "original": orig["acc_test_star"], "best_acc": acc,
                     "inputs_used": used, "inputs_total": total, "utilisation": used / total if total else float("nan"),
                     "selected_on": select_on})
    return pd.DataFrame(rows, columns=KEYS + ["original", "best_acc", "inputs_used", "inputs_total", "utilisation",
                                              "selected_on"])


def table4(points: pd.DataFrame, t3: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 4: C3 as in Table 3 (its best point ``t3``) against C2 retrained on as many
    inputs as C3 has in total (the ``atc3`` point).

    ``inputs_C2`` is C3's total input count (C2's inputs); ``inputs_C3`` the inputs C3 used at its
    best point. ``difference`` = acc_C2 - acc_C3 (accuracy on Test*).
    """
    rows = []
    c2 = points[(points["configuration"] == "C2") & (points["point"] == "atc3")]
    for best in t3[t3["configuration"] == "C3"].itertuples():
        match = c2[(c2["dataset"] == best.dataset) & (c2["attack"] == best.attack) & (c2["rep"] == best.rep)
                   & (c2["metric"] == best.metric)]
        if match.empty:
            continue
        m = match.iloc[0]
        rows.append({
            "dataset": best.dataset, "attack": best.attack, "rep": best.rep, "metric": best.metric,
            "inputs_C2": int(m["inputs_used"]), "acc_C2": float(m["acc_test_star"]),
            "inputs_C3": int(best.inputs_used), "acc_C3": float(best.best_acc),
            "difference": float(m["acc_test_star"]) - float(best.best_acc),
        })
    return pd.DataFrame(rows, columns=TABLE4_COLUMNS)


TABLE4_COLUMNS = ["dataset", "attack", "rep", "metric", "inputs_C2", "acc_C2", "inputs_C3", "acc_C3", "difference"]


def cross_attack(records: list[dict], attacks: list[dict], t3: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of each model on the Adv.Test of every attack of the grid (model x attack).

    Models: the original (per dataset) and, per dataset, training attack, configuration and
    metric, the retrained model at Table 3's best point. Columns ``adv_<attack>``.
    """
    names = sorted({a["attack"] for a in attacks})
    rows = []
    for dataset, rep in sorted({(a["dataset"], a.get("rep", 1)) for a in attacks}):
        orig = {a["attack"]: a["original_acc_adv_test"] for a in attacks
                if a["dataset"] == dataset and a.get("rep", 1) == rep}
        rows.append({"dataset": dataset, "rep": rep, "model": "original", "trained_on": "", "configuration": "",
                     "metric": "", "inputs_used": 0, **{f"adv_{n}": orig.get(n, float("nan")) for n in names}})
    by_key = {(r["dataset"], r["attack"], r.get("rep", 1), r["configuration"], r["metric"], int(r["inputs_used"])): r
              for r in records if is_regular(r["point"])}
    for best in t3.itertuples():
        rec = by_key.get((best.dataset, best.attack, best.rep, best.configuration, best.metric, int(best.inputs_used)))
        if rec is None:  # the original competed and won (include_original_in_best)
            continue
        cross = rec.get("acc_adv_test_by_attack", {})
        rows.append({"dataset": best.dataset, "rep": best.rep, "model": "retrained", "trained_on": best.attack,
                     "configuration": best.configuration, "metric": best.metric, "inputs_used": int(best.inputs_used),
                     **{f"adv_{n}": cross.get(n, float("nan")) for n in names}})
    columns = (["dataset", "rep", "model", "trained_on", "configuration", "metric", "inputs_used"]
               + [f"adv_{n}" for n in names])
    return pd.DataFrame(rows, columns=columns)


DEFENCE_ORDER = ["none", "adversarial_training", "feature_squeezing", "guided"]


def defences(results: list[dict], attacks: list[str]) -> pd.DataFrame:
    """One row per dataset and defence, one accuracy column per attack (``none`` = clean Test): the mean
    over the repetitions (``repetitions``: how many)."""
    rows, reps = {}, {}
    for r in results:
        rows.setdefault((r["dataset"], r["defence"]), {}).setdefault(r["attack"], []).append(r["accuracy"])
        reps.setdefault((r["dataset"], r["defence"]), set()).add(r.get("rep", 1))
    ordered = sorted(rows, key=lambda k: (k[0], DEFENCE_ORDER.index(k[1]) if k[1] in DEFENCE_ORDER else 99, k[1]))
    data = [{"dataset": d, "defence": f, "repetitions": len(reps[d, f]),
             **{a: sum(rows[d, f][a]) / len(rows[d, f][a]) if a in rows[d, f] else float("nan") for a in attacks}}
            for d, f in ordered]
    return pd.DataFrame(data, columns=["dataset", "defence", "repetitions", *attacks])


def defences_transfer(results: list[dict], attacks: list[str]) -> pd.DataFrame:
    """Run 004's protocol: one row per dataset and defence, the accuracy (``<attack>``) and mean
    cross-entropy loss (``<attack>_loss``) on inputs crafted against the undefended model (transfer)."""
    acc = defences(results, attacks)
    loss = defences([{**r, "accuracy": r["loss"]} for r in results], attacks)
    for a in attacks:
        acc[f"{a}_loss"] = loss[a]
    return acc


def table5(scores: list[dict]) -> pd.DataFrame:
    """Time of each metric over the scored set (Train*), charged only what it reads.

    - ``reads``: the forward passes of the original model the metric reads
      (:func:`guided_retraining.metrics.charged_inputs`): its layers' traces of Train* (with the
      predicted classes of the same pass; NC, LSA, DSA, ...), the validation split's traces where they
      are its reference set (``reference: validation``), the softmax outputs of Train* (DeepGini,
      entropy, ...), or nothing (random; MC dropout's own passes are in its ``seconds``).
    - ``seconds`` / ``cpu_seconds``: the metric alone (score job), wall and CPU time of its thread.
    - ``traces_seconds`` / ``traces_cpu_seconds``: the traces it reads; ``softmax_seconds`` /
      ``softmax_cpu_seconds``: the softmax outputs it reads (0 when it reads none).
    - ``total_seconds`` (``hh:mm:ss``) and ``total_cpu_seconds``: the metric and what it reads, the
      figure comparable with the study's Table 5 (whose times include computing the traces or the
      forward pass, and are 00:00:00 for random).

    Wall time includes waiting for jobs sharing the process or machine, so the CPU times are the
    figures to compare between metrics.
    """
    rows = []
    for s in scores:
        wall, cpu = s.get("input_seconds", {}), s.get("input_cpu_seconds", {})
        traces = [k for k in wall if k != "softmax"]
        row = {"dataset": s["dataset"], "attack": s["attack"], "rep": s.get("rep", 1), "metric": s["metric"],
               "scored_inputs": int(s["n"]), "reads": _reads(wall), "seconds": float(s["seconds"]),
               "cpu_seconds": float(s.get("cpu_seconds", float("nan"))),
               "traces_seconds": sum(float(wall[k]) for k in traces),
               "traces_cpu_seconds": sum(float(cpu.get(k, float("nan"))) for k in traces),
               "softmax_seconds": float(wall.get("softmax", 0.0)),
               "softmax_cpu_seconds": float(cpu.get("softmax", 0.0))}
        row["total_seconds"] = row["seconds"] + row["traces_seconds"] + row["softmax_seconds"]
        row["total_cpu_seconds"] = row["cpu_seconds"] + row["traces_cpu_seconds"] + row["softmax_cpu_seconds"]
        row["hh:mm:ss"] = _hms(row["total_seconds"])
        rows.append(row)
    frame = pd.DataFrame(rows, columns=TABLE5_COLUMNS)
    return frame.sort_values(["dataset", "attack", "rep", "metric"], kind="stable").reset_index(drop=True)


def _reads(charged) -> str:
    """``charged`` input names in words: 'dense1 traces (Train*)', 'softmax (Train*)', 'nothing'."""
    layers = [k for k in charged if k != "softmax" and not k.endswith(":validation")]
    words = [f"{layer} traces (Train*{', validation' if f'{layer}:validation' in charged else ''})"
             for layer in layers]
    if "softmax" in charged:
        words.append("softmax (Train*)")
    return " + ".join(words) or "nothing"


TABLE5_COLUMNS = ["dataset", "attack", "rep", "metric", "scored_inputs", "reads", "seconds", "cpu_seconds",
                  "traces_seconds", "traces_cpu_seconds", "softmax_seconds", "softmax_cpu_seconds", "total_seconds",
                  "total_cpu_seconds", "hh:mm:ss"]


def retraining_time(records: list[dict]) -> pd.DataFrame:
    """Retraining execution time (seed 001's third outcome, beside accuracy and resource utilisation):
    per dataset, attack, configuration and metric, the wall and CPU seconds of retraining
    (``retrain_seconds``, ``retrain_cpu_seconds`` of each retrain job) summed over the data points of
    one repetition, then the mean over the repetitions (``repetitions``: how many). Only the study's
    data points are summed: the extra C2 point at C3's total (Table 4's ``atc3``) and the fixed-budget
    points (``aggregate.budgets``) are left out, so every metric sums the same points.
    """
    rows = [{"dataset": r["dataset"], "attack": r["attack"], "rep": r.get("rep", 1), "configuration": r["configuration"],
             "metric": r["metric"], "seconds": float(r.get("retrain_seconds", float("nan"))),
             "cpu_seconds": float(r.get("retrain_cpu_seconds", float("nan")))}
            for r in records if is_regular(r["point"])]
    group = ["dataset", "attack", "configuration", "metric"]
    if not rows:
        return pd.DataFrame(columns=RETRAINING_TIME_COLUMNS)
    frame = pd.DataFrame(rows)
    per_rep = frame.groupby(group + ["rep"], sort=True).agg(points=("seconds", "size"), seconds=("seconds", "sum"),
                                                             cpu_seconds=("cpu_seconds", "sum")).reset_index()
    out = per_rep.groupby(group, sort=True).agg(points=("points", "max"), repetitions=("rep", "nunique"),
                                                seconds=("seconds", "mean"),
                                                cpu_seconds=("cpu_seconds", "mean")).reset_index()
    out["hh:mm:ss"] = [_hms(v) for v in out["seconds"]]
    return out[RETRAINING_TIME_COLUMNS]


RETRAINING_TIME_COLUMNS = ["dataset", "attack", "configuration", "metric", "points", "repetitions", "seconds",
                           "cpu_seconds", "hh:mm:ss"]


def table3_markdown(t3: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per dataset/attack/configuration, a column per metric, cells 'acc (u/T)';
    the best metric of each row (highest accuracy) in bold when it is the only one; when several metrics
    share the highest accuracy, each of them is marked '(tie)' and none is bold."""
    if t3.empty:
        return pd.DataFrame()
    index = ["dataset", "attack", "rep", "configuration"]
    top = t3.groupby(index)["best_acc"].transform("max")
    tied = (t3["best_acc"] == top).groupby([t3[k] for k in index]).transform("sum") > 1

    def cell(a, u, t, m, tie):
        if a != m:
            return f"{a:.4f} ({u}/{t})"
        return f"{a:.4f} ({u}/{t}) (tie)" if tie else f"**{a:.4f}** ({u}/{t})"

    cells = t3.assign(cell=[cell(*args) for args in zip(t3.best_acc, t3.inputs_used, t3.inputs_total, top, tied)])
    wide = cells.pivot_table(index=index, columns="metric", values="cell", aggfunc="first")
    orig = t3.groupby(index)["original"].first().map(lambda a: f"{a:.4f}")
    wide.insert(0, "original", orig)
    wide.columns.name = None
    return wide.reset_index()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def devices_note(records) -> str:
    """What the tables pool, by device, from the ``hardware`` field of the result JSONs they read: empty
    when every job ran on the CPU; else e.g. ``"devices: cpu (120 jobs), cuda NVIDIA A100-SXM4-80GB
    (40 jobs): pooled from different devices"`` (a GPU's results differ slightly from the CPU's; see
    docs/gpus.md). Jobs without the field (written before it existed) count as "device not recorded"."""
    counts: dict[str, int] = {}
    for record in records:
        hw = record.get("hardware")
        if hw is None:
            name = "device not recorded"
        elif str(hw.get("device", "cpu")).startswith("cuda"):
            name = f"cuda {hw.get('gpu')}" + ("" if (hw.get("deterministic") or {}).get("use_deterministic_algorithms")
                                              else " (deterministic off)")
        else:
            name = "cpu"
        counts[name] = counts.get(name, 0) + 1
    if set(counts) <= {"cpu"}:
        return ""
    text = "devices: " + ", ".join(f"{name} ({n} jobs)" for name, n in sorted(counts.items()))
    return text + (": pooled from different devices" if len(counts) > 1 else "")


def write(frame: pd.DataFrame, csv_path, md_path, title: str, source: str, markdown: pd.DataFrame | None = None,
          shifts: dict[str, str] | None = None) -> None:
    """Write ``frame`` as a plain CSV (header on the first line: ``pandas.read_csv(path)`` reads it), its
    provenance as JSON beside it (``<name>.json``: title, source, columns, versions;
    :func:`guided_retraining.table_files.provenance`) and (``markdown`` or ``frame``) as a Markdown table
    with its title, source and a footnote defining the terms it uses
    (:func:`guided_retraining.table_files.footnote`); all atomically. ``shifts``: name -> kind of the grid's
    entries that are distribution shifts; in the Markdown their rows say so (``shift`` / ``attack or shift``
    as the column's header, the kind beside the name: :func:`~guided_retraining.table_files.label_shifts`) and
    the footnote defines the sets for shifts too. The CSV keeps its ``attack`` key column.
    """
    from .io import save_json
    from .table_files import footnote, json_path, label_shifts, provenance

    with atomic_path(csv_path) as tmp:
        with open(tmp, "w") as fh:
            frame.to_csv(fh, index=False, lineterminator="\n")
    save_json(json_path(csv_path), provenance(frame, csv_path, md_path, title, source))
    md = markdown if markdown is not None else frame
    labelled = label_shifts(md, shifts)  # the same frame when no row is a shift
    body = labelled.to_markdown(index=False, floatfmt=".4f") if not labelled.empty else "(no rows)"
    note = footnote(title, body, shifts=labelled is not md)
    with atomic_path(md_path) as tmp:
        tmp.write_text(f"# {title}\n\nSource: `{source}`\n\n{body}\n" + (f"\n{note}\n" if note else ""))


def read_csv(path) -> pd.DataFrame:
    """A table written by :func:`write` (a plain CSV: the same as ``pandas.read_csv(path)``)."""
    return pd.read_csv(Path(path))


def deepcustom(results: list[dict], models: list[str], attacks: list[str]) -> pd.DataFrame:
    """Seed 003's robustness matrix: one row per dataset and model (``original`` or ``robust_<attack>``),
    one accuracy column per attack (the mean over the repetitions, ``repetitions``: how many), in the given orders."""
    frame = pd.DataFrame([{"rep": r.get("rep", 1), **{k: r[k] for k in ("dataset", "model", "attack", "accuracy")}}
                          for r in results])
    wide = frame.pivot_table(index=["dataset", "model"], columns="attack", values="accuracy", aggfunc="mean")
    wide = wide.join(frame.groupby(["dataset", "model"])["rep"].nunique().rename("repetitions")).reset_index()
    wide["model"] = pd.Categorical(wide["model"], models, ordered=True)
    wide = wide.sort_values(["dataset", "model"]).reset_index(drop=True)
    wide["model"] = wide["model"].astype(str)
    wide.columns.name = None
    return wide[["dataset", "model", "repetitions", *attacks]]


def adversarial_share(points: pd.DataFrame) -> pd.DataFrame:
    """Share of adversarial inputs among the inputs each C1/C2 data point used, per metric.

    ``points`` has one row per retrained model (:func:`guided_retraining.tables.points_frame`:
    ``configuration``, ``metric``, ``point``, ``inputs_used``, ``adversarial_used``), so the sizes
    are the ones retraining used, configured ``steps`` included. C1 and C2 take the same prefixes of
    Train*; C2's rows are used where present, else C1's. Returns one row per metric and point:
    ``metric``, ``point`` (k), ``inputs`` and ``adversarial_share``.
    """
    columns = ["metric", "point", "inputs", "adversarial_share"]
    rows = points[points["point"].astype(str).str.fullmatch(r"p\d+")]
    configuration = "C2" if (rows["configuration"] == "C2").any() else "C1"
    rows = rows[rows["configuration"] == configuration]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    inputs = rows["inputs_used"].to_numpy()
    share = np.where(inputs > 0, rows["adversarial_used"].to_numpy() / np.maximum(inputs, 1), np.nan)
    frame = pd.DataFrame({"metric": rows["metric"].to_numpy(), "point": rows["point"].str[1:].astype(int).to_numpy(),
                          "inputs": inputs, "adversarial_share": share}, columns=columns)
    return frame.sort_values(["metric", "point"], kind="stable").reset_index(drop=True)


def adversarial_shares(points: pd.DataFrame, grid) -> pd.DataFrame:
    """:func:`adversarial_share` of repetition 1 per (dataset, attack) of ``grid``, in its order: columns
    ``dataset``, ``attack``, ``metric``, ``point``, ``inputs``, ``adversarial_share``."""
    columns = ["dataset", "attack", "metric", "point", "inputs", "adversarial_share"]
    shares = [adversarial_share(points[(points["dataset"] == d) & (points["attack"] == a) & (points["rep"] == 1)])
              .assign(dataset=d, attack=a) for d, a in grid]
    return pd.concat(shares, ignore_index=True)[columns] if shares else pd.DataFrame(columns=columns)
