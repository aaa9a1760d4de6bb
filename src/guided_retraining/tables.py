"""The study's tables from the per-job JSON results.

- Table 3: per dataset, attack, configuration and metric, the best accuracy on
  Test* over the data points, the inputs used there (u) and available (T).
- Table 4: per dataset, attack and metric, C2 retrained on as many inputs as C3's
  total against C3 on all of Adv.Train.
- Table 5: the wall time of each metric over the scored set.

Each is written as CSV (tidy, one row per cell of the grid) and Markdown
(the paper's layout).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .io import atomic_path

KEYS = ["dataset", "attack", "configuration", "metric"]


def points_frame(records: list[dict]) -> pd.DataFrame:
    """One row per retrained model: the keys, point, inputs used/available and accuracies."""
    cols = KEYS + ["point", "inputs_used", "inputs_total", "acc_test_star", "acc_test", "acc_adv_test"]
    frame = pd.DataFrame([{c: r[c] for c in cols} for r in records], columns=cols)
    return frame.sort_values(KEYS + ["inputs_used"], kind="stable").reset_index(drop=True)


def table3(points: pd.DataFrame, original: dict[tuple[str, str], float], include_original: bool = False) -> pd.DataFrame:
    """Best Test* accuracy per (dataset, attack, configuration, metric); ties go to fewer inputs.

    ``original`` maps (dataset, attack) to the original model's Test* accuracy. With
    ``include_original`` the original model competes as a point with 0 inputs (as the
    replication notebooks did).
    """
    rows = []
    regular = points[points["point"] != "atc3"]
    for key, group in regular.groupby(KEYS, sort=True):
        orig = original[(key[0], key[1])]
        best = group.sort_values(["acc_test_star", "inputs_used"], ascending=[False, True], kind="stable").iloc[0]
        acc, used = float(best["acc_test_star"]), int(best["inputs_used"])
        if include_original and orig > acc:
            acc, used = orig, 0
        total = int(group["inputs_total"].max())
        rows.append(dict(zip(KEYS, key), original=orig, best_acc=acc, inputs_used=used, inputs_total=total,
                         utilisation=used / total if total else float("nan")))
    return pd.DataFrame(rows, columns=KEYS + ["original", "best_acc", "inputs_used", "inputs_total", "utilisation"])


def table4(points: pd.DataFrame) -> pd.DataFrame:
    """C2 at C3's total input count against C3 on all adversarial inputs."""
    rows = []
    c3 = points[(points["configuration"] == "C3")]
    c2 = points[(points["configuration"] == "C2") & (points["point"] == "atc3")]
    for (dataset, attack, metric), group in c3.groupby(["dataset", "attack", "metric"], sort=True):
        full = group.sort_values("inputs_used", kind="stable").iloc[-1]
        match = c2[(c2["dataset"] == dataset) & (c2["attack"] == attack) & (c2["metric"] == metric)]
        if match.empty:
            continue
        m = match.iloc[0]
        rows.append({
            "dataset": dataset, "attack": attack, "metric": metric, "inputs": int(full["inputs_used"]),
            "acc_C2": float(m["acc_test_star"]), "acc_C3": float(full["acc_test_star"]),
            "difference": float(m["acc_test_star"]) - float(full["acc_test_star"]),
        })
    return pd.DataFrame(rows, columns=["dataset", "attack", "metric", "inputs", "acc_C2", "acc_C3", "difference"])


def cross_attack(records: list[dict], attacks: list[dict], t3: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of each model on the Adv.Test of every attack of the grid (model x attack).

    Models: the original (per dataset) and, per dataset, training attack, configuration and
    metric, the retrained model at Table 3's best point. Columns ``adv_<attack>``.
    """
    names = sorted({a["attack"] for a in attacks})
    rows = []
    for dataset in sorted({a["dataset"] for a in attacks}):
        orig = {a["attack"]: a["original_acc_adv_test"] for a in attacks if a["dataset"] == dataset}
        rows.append({"dataset": dataset, "model": "original", "trained_on": "", "configuration": "", "metric": "",
                     "inputs_used": 0, **{f"adv_{n}": orig.get(n, float("nan")) for n in names}})
    by_key = {(r["dataset"], r["attack"], r["configuration"], r["metric"], int(r["inputs_used"])): r
              for r in records if r["point"] != "atc3"}
    for best in t3.itertuples():
        rec = by_key.get((best.dataset, best.attack, best.configuration, best.metric, int(best.inputs_used)))
        if rec is None:  # the original competed and won (include_original_in_best)
            continue
        cross = rec.get("acc_adv_test_by_attack", {})
        rows.append({"dataset": best.dataset, "model": "retrained", "trained_on": best.attack,
                     "configuration": best.configuration, "metric": best.metric, "inputs_used": int(best.inputs_used),
                     **{f"adv_{n}": cross.get(n, float("nan")) for n in names}})
    columns = ["dataset", "model", "trained_on", "configuration", "metric", "inputs_used"] + [f"adv_{n}" for n in names]
    return pd.DataFrame(rows, columns=columns)


DEFENCE_ORDER = ["none", "adversarial_training", "feature_squeezing", "guided"]


def defences(results: list[dict], attacks: list[str]) -> pd.DataFrame:
    """One row per dataset and defence, one accuracy column per attack (``none`` = clean Test)."""
    rows = {}
    for r in results:
        rows.setdefault((r["dataset"], r["defence"]), {})[r["attack"]] = r["accuracy"]
    ordered = sorted(rows, key=lambda k: (k[0], DEFENCE_ORDER.index(k[1]) if k[1] in DEFENCE_ORDER else 99, k[1]))
    data = [{"dataset": d, "defence": f, **{a: rows[d, f].get(a, float("nan")) for a in attacks}} for d, f in ordered]
    return pd.DataFrame(data, columns=["dataset", "defence", *attacks])


def table5(scores: list[dict]) -> pd.DataFrame:
    """Wall time of each metric over the scored set, and the CPU time of the scoring thread.

    Wall time is the study's measure; when jobs share a process or a machine it includes
    waiting for the others, so ``cpu_seconds`` (the thread's CPU time, all of the work with
    the rule's one torch thread) is the figure to compare between metrics.
    """
    rows = [{"dataset": s["dataset"], "attack": s["attack"], "metric": s["metric"], "scored_inputs": int(s["n"]),
             "seconds": float(s["seconds"]), "hh:mm:ss": _hms(float(s["seconds"])),
             "cpu_seconds": float(s.get("cpu_seconds", float("nan")))} for s in scores]
    frame = pd.DataFrame(rows, columns=["dataset", "attack", "metric", "scored_inputs", "seconds", "hh:mm:ss",
                                        "cpu_seconds"])
    return frame.sort_values(["dataset", "attack", "metric"], kind="stable").reset_index(drop=True)


def table3_markdown(t3: pd.DataFrame) -> pd.DataFrame:
    """The paper's layout: one row per dataset/attack/configuration, a column per metric, cells 'acc (u/T)'."""
    if t3.empty:
        return pd.DataFrame()
    cells = t3.assign(cell=[f"{a:.4f} ({u}/{t})" for a, u, t in zip(t3.best_acc, t3.inputs_used, t3.inputs_total)])
    wide = cells.pivot_table(index=["dataset", "attack", "configuration"], columns="metric", values="cell", aggfunc="first")
    orig = t3.groupby(["dataset", "attack", "configuration"])["original"].first().map(lambda a: f"{a:.4f}")
    wide.insert(0, "original", orig)
    wide.columns.name = None
    return wide.reset_index()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def write(frame: pd.DataFrame, csv_path, md_path, title: str, source: str, markdown: pd.DataFrame | None = None) -> None:
    """Write ``frame`` as CSV and (``markdown`` or ``frame``) as a Markdown table, both atomically.

    The Markdown file starts with the title and the config that produced it; the CSV
    carries the source in a ``# source:`` comment line read back by ``read_csv(comment='#')``.
    """
    with atomic_path(csv_path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(f"# {title}; source: {source}\n")
            frame.to_csv(fh, index=False, lineterminator="\n")
    md = markdown if markdown is not None else frame
    body = md.to_markdown(index=False, floatfmt=".4f") if not md.empty else "(no rows)"
    with atomic_path(md_path) as tmp:
        tmp.write_text(f"# {title}\n\nSource: `{source}`\n\n{body}\n")


def read_csv(path) -> pd.DataFrame:
    return pd.read_csv(Path(path), comment="#")


def deepcustom(results: list[dict], models: list[str], attacks: list[str]) -> pd.DataFrame:
    """Seed 003's robustness matrix: one row per dataset and model (``original`` or ``robust_<attack>``),
    one accuracy column per attack, in the given orders."""
    frame = pd.DataFrame([{k: r[k] for k in ("dataset", "model", "attack", "accuracy")} for r in results])
    wide = frame.pivot_table(index=["dataset", "model"], columns="attack", values="accuracy").reset_index()
    wide["model"] = pd.Categorical(wide["model"], models, ordered=True)
    wide = wide.sort_values(["dataset", "model"]).reset_index(drop=True)
    wide["model"] = wide["model"].astype(str)
    wide.columns.name = None
    return wide[["dataset", "model", *attacks]]
