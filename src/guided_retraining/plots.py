"""The workflow's figures, one of each per dataset and attack.

- :func:`figure3`: the study's Figure 3, accuracy on Test* against inputs used, one
  line per metric (mean over repetitions, 95% band), one panel per configuration, the
  selected points marked.
- :func:`paired_share_heatmap`: the paired share of every metric against every other, one panel
  per configuration, significant cells marked.
- :func:`budget_differences`: beside Figure 3, the mean paired difference to random (95% CI) at
  each fixed budget, one panel per configuration.
- :func:`score_distributions`: per metric, the scores of the clean training inputs
  against those of the adversarial inputs of Train* (one panel per metric).
- :func:`adversarial_share_figure`: the share of adversarial inputs in the prefix of
  Train* each data point of C1/C2 uses, one line per metric (data from
  :func:`adversarial_share`).
- :func:`training_curves`: loss and accuracy per epoch of the original and defended models.
- :func:`objectives_heatmap`: per objective and dataset, the paired gain of every metric over random
  (metric x attack or shift), one panel per pool or configuration and endpoint.

Files are byte-identical across runs of the same data: PDFs carry no creation date.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_path  # noqa: E402


def figure3(points: pd.DataFrame, original: float, title: str, paths, best: pd.DataFrame | None = None) -> None:
    """Draw the curves of one dataset/attack and save to each of ``paths`` (PNG, PDF, ...).

    Per configuration (panel) and metric: the mean Test* accuracy over the repetitions at each data
    point (line) with its 95% t-interval (band, from 2 repetitions on); with ``best``
    (:func:`guided_retraining.tables.best_points`) each metric's selected point is marked by a star at
    the mean inputs used and mean Test* accuracy of its repetitions' selected points.
    ``original`` is the original model's Test* accuracy (dashed line; repetition 1's).
    """
    from scipy.stats import t as student

    configurations = sorted(points["configuration"].unique())
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.2 * len(configurations), 3.6), squeeze=False)
    from .retraining import is_regular

    regular = points[points["point"].map(is_regular)]  # the study's curve: no atc3 and no budget points
    for ax, configuration in zip(axes[0], configurations):
        sub = regular[regular["configuration"] == configuration]
        for i, (metric, group) in enumerate(sub.groupby("metric", sort=True)):
            color = f"C{i % 10}"
            curve = group.groupby("point").agg(x=("inputs_used", "mean"), y=("acc_test_star", "mean"),
                                               sd=("acc_test_star", "std"), n=("acc_test_star", "size")).sort_values("x")
            ax.plot(curve["x"], curve["y"], marker="o", markersize=2.5, linewidth=1.2, label=metric, color=color)
            if curve["n"].min() > 1:
                half = student.ppf(0.975, curve["n"] - 1) * curve["sd"] / np.sqrt(curve["n"])
                ax.fill_between(curve["x"], np.clip(curve["y"] - half, 0, 1), np.clip(curve["y"] + half, 0, 1),
                                color=color, alpha=0.15, linewidth=0)
            if best is not None:
                chosen = best[(best["configuration"] == configuration) & (best["metric"] == metric)]
                if len(chosen):
                    ax.plot(chosen["inputs_used"].mean(), chosen["acc_test_star"].mean(), marker="*", markersize=11,
                            color=color, markeredgecolor="black", markeredgewidth=0.6, linestyle="none")
        ax.axhline(original, color="grey", linestyle="--", linewidth=1, label="original")
        ax.set_title(configuration)
        ax.set_xlabel("inputs used")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy on Test*")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    _save(fig, paths)


def paired_share_heatmap(pairs: pd.DataFrame, title: str, paths) -> None:
    """One panel per configuration: the paired share of the row metric against the column metric (the
    share of repetitions where the row metric is better, ties half; from
    :func:`guided_retraining.statistics.pairs` of one endpoint), value in each cell, ``*`` where the
    signed-rank p-value Holm-corrected over the panel's pairs (the family of ``statistics_pairs``) is
    below 0.05."""
    configurations = sorted(pairs["configuration"].unique()) or ["(none)"]
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.0 * len(configurations), 3.8), squeeze=False,
                             layout="constrained")
    image = None
    for ax, configuration in zip(axes[0], configurations):
        sub = pairs[pairs["configuration"] == configuration]
        metrics = sorted(set(sub["metric"]) | set(sub["other"]))
        grid = np.full((len(metrics), len(metrics)), 0.5)
        marks = np.zeros_like(grid, dtype=bool)
        for r in sub.itertuples():
            i, j = metrics.index(r.metric), metrics.index(r.other)
            grid[i, j], marks[i, j] = r.paired_share, bool(r.significant)
        image = ax.imshow(grid, cmap="RdBu", vmin=0, vmax=1)
        for i in range(len(metrics)):
            for j in range(len(metrics)):
                if i != j:
                    ax.text(j, i, f"{grid[i, j]:.2f}{'*' if marks[i, j] else ''}", ha="center", va="center",
                            fontsize=6.5, color="white" if abs(grid[i, j] - 0.5) > 0.3 else "black")
        ax.set_xticks(range(len(metrics)), metrics, rotation=60, fontsize=7, ha="right")
        ax.set_yticks(range(len(metrics)), metrics, fontsize=7)
        ax.set_title(configuration)
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="paired share (row beats column; ties half)")
    fig.suptitle(title)
    _save(fig, paths, tight=False)


def budget_differences(against: pd.DataFrame, title: str, paths, baseline: str = "random") -> None:
    """Beside Figure 3: one panel per configuration, the mean paired difference of Test* accuracy to
    ``baseline`` (metric minus baseline, over the repetitions) against the budget's inputs used, with its
    95% t-interval as error bars, one line per metric. ``against``: the budget endpoints' rows of
    :func:`guided_retraining.statistics.pairs` with ``other == baseline``, plus ``inputs_used_mean``."""
    configurations = sorted(against["configuration"].unique()) or ["(none)"]
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.2 * len(configurations), 3.6), squeeze=False)
    for ax, configuration in zip(axes[0], configurations):
        sub = against[against["configuration"] == configuration]
        for i, (metric, group) in enumerate(sub.groupby("metric", sort=True)):
            group = group.sort_values("inputs_used_mean", kind="stable")
            low = (group["diff_mean"] - group["diff_ci_low"]).fillna(0).to_numpy()
            high = (group["diff_ci_high"] - group["diff_mean"]).fillna(0).to_numpy()
            ax.errorbar(group["inputs_used_mean"], group["diff_mean"], yerr=[low, high], marker="o", markersize=3,
                        linewidth=1.2, capsize=2.5, label=metric, color=f"C{i % 10}")
        ax.axhline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_title(configuration)
        ax.set_xlabel("budget (inputs used)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"Test* accuracy minus {baseline}'s")
    if len(against):
        axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    _save(fig, paths)


# No date or random id in the files, so identical runs give byte-identical figures: PDF and PS creation
# dates left out (Matplotlib's ``metadata``), SVG ids from a fixed salt.
_METADATA = {"pdf": {"CreationDate": None, "ModDate": None}, "ps": {"CreationDate": None},
             "svg": {"Date": None}, "png": {}}


def _save(fig, paths, tight: bool = True) -> None:
    """Lay out ``fig``, write it atomically to each of ``paths`` (format from the suffix) and close it.
    The same figure gives byte-identical files (no creation dates; fixed SVG hash salt)."""
    if tight:
        fig.tight_layout()
    for path in paths:
        suffix = "." + str(path).rsplit(".", 1)[-1]
        fmt = suffix[1:].lower()
        with atomic_path(path, suffix=suffix) as tmp, matplotlib.rc_context({"svg.hashsalt": "guided-retraining"}):
            fig.savefig(tmp, dpi=150, format=fmt, metadata=_METADATA.get(fmt))
    plt.close(fig)


def defences(frame: pd.DataFrame, title: str, paths) -> None:
    """Grouped bars: accuracy of each defence (group) under each attack (bar)."""
    attacks = [c for c in frame.columns if c not in ("dataset", "defence", "repetitions")]
    fig, ax = plt.subplots(figsize=(1.6 + 1.6 * len(frame), 3.6))
    width = 0.8 / max(len(attacks), 1)
    x = np.arange(len(frame))
    for i, attack in enumerate(attacks):
        ax.bar(x + (i - (len(attacks) - 1) / 2) * width, frame[attack], width, label=attack)
    ax.set_xticks(x, [d.replace("_", " ") for d in frame["defence"]])
    ax.set_ylabel("accuracy on Test")
    ax.set_ylim(0, 1)
    ax.legend(title="attack", fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    _save(fig, paths)


def _panels(n: int, width: float = 3.4, height: float = 2.8, max_cols: int = 3):
    """A figure with ``n`` panels on a grid of at most ``max_cols`` columns; unused panels hidden."""
    cols = max(1, min(max_cols, n))
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.5), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def separation_auc(clean: np.ndarray, adversarial: np.ndarray) -> float:
    """Probability that a random adversarial input scores higher than a random clean one (ties count half).

    The area under the ROC curve of the score as a detector of adversarial inputs (the
    Mann-Whitney U statistic over both counts): 1 puts every adversarial input first in
    the metric's descending order, 0.5 is no better than random, 0 puts them last. NaN
    when either group is empty.
    """
    from scipy.stats import rankdata

    clean, adversarial = np.asarray(clean, dtype=float), np.asarray(adversarial, dtype=float)
    if len(clean) == 0 or len(adversarial) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([clean, adversarial]))  # average ranks for ties; inf ranks last
    u = ranks[len(clean):].sum() - len(adversarial) * (len(adversarial) + 1) / 2
    return float(u / (len(clean) * len(adversarial)))


def _tame_tail(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """``values``, or sign(v)·log10(1 + |v|) of them when a long tail would squash the histogram.

    The tail counts as long when the finite values reach more than 20 times the width of
    their 1st-99th percentile range beyond it (LSA's scores can reach 1e9 for a few
    inputs). Returns the values to draw and whether they were transformed.
    """
    finite = values[np.isfinite(values)]
    if len(finite) < 2:
        return values, False
    low, high = np.percentile(finite, [1, 99])
    width = max(high - low, 1e-12)
    if max(finite.max() - high, low - finite.min()) <= 20 * width:
        return values, False
    return np.sign(values) * np.log10(1 + np.abs(values)), True


def score_distributions(scores: dict[str, np.ndarray], n_train: int, title: str, paths, bins: int = 30) -> None:
    """Histograms of each metric's scores over Train*, clean training inputs against adversarial inputs.

    ``scores`` maps a metric to its scores over Train* (rows ``< n_train`` are the clean
    training inputs, the rest Adv.Train). One panel per metric, sorted by name; both
    groups share the panel's bins and are drawn as densities, as Adv.Train is much
    smaller than Train. Each panel's title gives the :func:`separation_auc` (how well
    the descending score puts adversarial inputs first). A panel whose scores have a
    long tail is drawn on a signed log scale (see :func:`_tame_tail`; its x label says
    so). Non-finite scores are left out of the histogram and counted in the title.
    Saved to each of ``paths``.
    """
    metrics = sorted(scores)
    fig, axes = _panels(len(metrics))
    for ax, metric in zip(axes, metrics):
        raw = np.asarray(scores[metric], dtype=float)
        auc = separation_auc(raw[:n_train], raw[n_train:])
        values, log_scale = _tame_tail(raw)
        clean, adversarial = values[:n_train], values[n_train:]
        finite = values[np.isfinite(values)]
        edges = np.histogram_bin_edges(finite if len(finite) else np.zeros(1), bins=bins)
        for group, label, color in ((clean, "clean (Train)", "tab:blue"), (adversarial, "adversarial (Adv.Train)", "tab:red")):
            group = group[np.isfinite(group)]
            if len(group):
                ax.hist(group, bins=edges, density=True, histtype="stepfilled", alpha=0.35, color=color, label=label)
                ax.hist(group, bins=edges, density=True, histtype="step", color=color, linewidth=1)
        subtitle = f"{metric} (AUC {auc:.2f})"
        dropped = int((~np.isfinite(values)).sum())
        if dropped:
            subtitle += f", {dropped} non-finite"
        ax.set_title(subtitle, fontsize=9)
        ax.set_xlabel("sign(s) log10(1 + |s|) of score s" if log_scale else "score", fontsize=8 if log_scale else None)
        ax.grid(alpha=0.3)
    if axes:
        axes[0].set_ylabel("density")
        axes[0].legend(fontsize=7)
    fig.suptitle(title)
    _save(fig, paths)


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


def adversarial_share_figure(share: pd.DataFrame, overall: float, title: str, paths) -> None:
    """Draw :func:`adversarial_share`'s rows of one dataset/attack: inputs used against share adversarial.

    One line per metric; the dashed line is ``overall``, the adversarial share of the
    whole of Train* (what a metric blind to adversarial inputs selects on average).
    Saved to each of ``paths``.
    """
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    markers = "osv^D<>ph*"
    for i, (metric, group) in enumerate(share.groupby("metric", sort=True)):
        group = group.sort_values("inputs")
        ax.plot(group["inputs"], group["adversarial_share"], marker=markers[i % len(markers)], markersize=4,
                linewidth=1.2, alpha=0.85, label=metric)
    ax.axhline(overall, color="grey", linestyle="--", linewidth=1, label=f"all of Train* ({overall:.3f})")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("inputs used (C1/C2 data points)")
    ax.set_ylabel("share of adversarial inputs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title, fontsize=10)
    _save(fig, paths)


def deepcustom_heatmap(frame: pd.DataFrame, title: str, paths) -> None:
    """Seed 003's robustness matrix as a heat map: models (rows) x attacks (columns), accuracy on Test in each cell."""
    attacks = [c for c in frame.columns if c not in ("dataset", "model", "repetitions")]
    values = frame[attacks].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.6 + 0.95 * len(attacks), 1.2 + 0.45 * len(frame)))
    im = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(attacks)), attacks, rotation=30, ha="right")
    ax.set_yticks(range(len(frame)), list(frame["model"]))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if values[i, j] > 0.6 else "white")
    ax.set_xlabel("attack (on Test)")
    ax.set_ylabel("model (adversarially trained on)")
    fig.colorbar(im, ax=ax, label="accuracy")
    ax.set_title(title)
    _save(fig, paths)


def training_curves(histories: dict[str, dict], title: str, paths) -> None:
    """Training graphs as run 004 shows them: per epoch, the mean training loss and the validation loss
    (left) and the validation accuracy (right) of each model (``histories``: model name -> its training
    JSON, with ``losses``, ``val_acc``, ``val_loss`` and ``best_epoch``); the epoch whose weights were
    kept is marked. A model without epochs (given by its weights) is named in the legend as not trained."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i % 10}"
        losses, val_acc, val_loss = h.get("losses") or [], h.get("val_acc") or [], h.get("val_loss") or []
        if not losses:
            loss_ax.plot([], [], color=color, label=f"{name} (not trained: given weights)")
            continue
        epochs = np.arange(1, len(losses) + 1)
        loss_ax.plot(epochs, losses, marker="o", markersize=2.5, color=color, label=f"{name}: training")
        if val_loss:
            loss_ax.plot(epochs[:len(val_loss)], val_loss, linestyle="--", color=color, label=f"{name}: validation")
        if val_acc:
            acc_ax.plot(epochs[:len(val_acc)], val_acc, marker="o", markersize=2.5, color=color, label=name)
            best = int(h.get("best_epoch") or len(val_acc))
            if 1 <= best <= len(val_acc):
                acc_ax.plot(best, val_acc[best - 1], marker="*", markersize=11, color=color, markeredgecolor="black",
                            markeredgewidth=0.6, linestyle="none")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss (cross-entropy)")
    loss_ax.legend(fontsize=7)
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("validation accuracy (star: weights kept)")
    acc_ax.legend(fontsize=7, loc="lower right")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title)
    _save(fig, paths)


def objectives_heatmap(table: pd.DataFrame, title: str, paths, baseline: str = "random") -> None:
    """One objective of one dataset (rows of :func:`guided_retraining.objectives.objectives_table`): one panel
    per scope (pool or configuration) and endpoint, a metric (rows) x attack or shift (columns) heat map of
    the mean paired gain over ``baseline`` (> 0 better; blue), value in each cell, ``*`` where Holm's p is
    below 0.05. Without the baseline metric the cells show the mean minus the expected value of a random
    order (``random_expected``), said in the panel's title; blank cells have neither."""
    rows = table[table["metric"] != baseline]
    panels = list(dict.fromkeys(zip(rows["scope"], rows["endpoint"])))
    n = max(1, len(panels))
    cols = min(n, 4)
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(max(6.4, 3.2 * cols), 2.9 * -(-n // cols) + 0.4),
                             squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    if not panels:
        axes[0][0].text(0.5, 0.5, "no rows: no metric but the baseline, or no endpoint\n(retraining needs"
                        " aggregate.budgets)", ha="center", va="center", fontsize=8)
    sign = np.where(rows["better"] == "higher", 1.0, -1.0)
    fallback = sign * (rows["mean"] - rows["random_expected"])
    value = rows["gain_mean"].astype(float).where(rows["gain_mean"].notna(), fallback)
    scale = float(np.nanmax(np.abs(value))) if value.notna().any() else 1.0
    scale = scale if scale > 0 else 1.0
    image = None
    for ax, (scope, endpoint) in zip(axes.flat, panels):
        sub = rows[(rows["scope"] == scope) & (rows["endpoint"] == endpoint)]
        metrics, attacks = list(dict.fromkeys(sub["metric"])), list(dict.fromkeys(sub["attack"]))
        grid = np.full((len(metrics), len(attacks)), np.nan)
        marks = np.zeros_like(grid, dtype=bool)
        for r, v in zip(sub.itertuples(), value[sub.index]):
            i, j = metrics.index(r.metric), attacks.index(r.attack)
            grid[i, j], marks[i, j] = v, bool(r.significant) if pd.notna(r.significant) else False
        image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdBu", vmin=-scale, vmax=scale, aspect="auto")
        for i in range(len(metrics)):
            for j in range(len(attacks)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:+.3f}{'*' if marks[i, j] else ''}", ha="center", va="center",
                            fontsize=6.5, color="white" if abs(grid[i, j]) > 0.6 * scale else "black")
        ax.set_xticks(range(len(attacks)), attacks, rotation=45, fontsize=7, ha="right")
        ax.set_yticks(range(len(metrics)), metrics, fontsize=7)
        against = baseline if sub["gain_mean"].notna().any() else "random's expectation"
        ax.set_title(f"{scope}: {endpoint}\n(gain over {against})", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=list(axes.flat), shrink=0.8, label=f"gain over {baseline} (> 0 better)")
    fig.suptitle(title, fontsize=9)
    _save(fig, paths, tight=False)
