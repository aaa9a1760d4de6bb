"""The workflow's figures, one of each per dataset and attack.

- :func:`figure3`: the study's Figure 3, accuracy on Test* against inputs used: per configuration
  (row) every metric's mean curve over the repetitions (left) and small multiples of each metric
  against random with their min-max bands (right), the originals of every repetition, the
  selected points marked.
- :func:`paired_share_heatmap`: the paired share of every metric against every other, one panel
  per configuration, significant cells marked.
- :func:`budget_differences`: beside Figure 3, the mean paired difference to random (95% CI) at
  each fixed budget, one panel per configuration.
- :func:`score_distributions`: per metric, the scores of the clean training inputs
  against those of the adversarial inputs of Train* (one panel per metric).
- :func:`adversarial_share_figure`: the share of adversarial inputs in the prefix of
  Train* each data point of C1/C2 uses, one line per metric (data from
  :func:`guided_retraining.tables.adversarial_share`).
- :func:`training_curves`: loss and accuracy per epoch of the original and defended models.
- :func:`objectives_heatmap`: per objective and dataset, the paired gain of every metric over random
  (metric x attack or shift), one panel per pool or configuration and endpoint.

Every figure is laid out for reading (:func:`_finish`): one legend below the panels (never over the data),
a one-line caption under it saying what is plotted (what a line, band or error bar is, and over how many
repetitions), panels titled with what they show (:func:`configuration_title`: "C1: new weights, Train*"),
shared y ranges where panels are compared, and every label inside the figure. Each function returns
its (closed) Figure, so a caller can inspect what was drawn.

Files are byte-identical across runs of the same data: PDFs carry no creation date.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import textwrap  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .io import atomic_path  # noqa: E402


def configuration_title(configuration: str) -> str:
    """What a retraining configuration is, for a panel title: 'C1: new weights, Train*', 'C2: original
    weights, Train*', 'C3: original weights, Adv.Train' (from :data:`guided_retraining.retraining.CONFIGURATIONS`)."""
    from .retraining import CONFIGURATIONS

    spec = CONFIGURATIONS.get(configuration)
    if spec is None:
        return str(configuration)
    weights = "original weights" if spec["from_original"] else "new weights"
    data = "Adv.Train" if spec["adversarial_only"] else "Train*"
    return f"{configuration}: {weights}, {data}"


def _repetitions_text(n: int) -> str:
    return f"{n} repetition{'s' if n != 1 else ''}"


def figure3(points: pd.DataFrame, original, title: str, paths, best: pd.DataFrame | None = None,
            baseline: str = "random"):
    """Draw the curves of one dataset/attack and save to each of ``paths`` (PNG, PDF, ...).

    One row per configuration (titled :func:`configuration_title`), all panels on one y range:

    - left, the study's Figure 3: per metric the mean Test* accuracy over the repetitions at each data
      point (line; x the mean inputs used), no bands, so no curve hides another;
    - right, small multiples: each metric (its colour) against ``baseline`` (grey), each line with the
      band from the lowest to the highest accuracy over the repetitions at that point (the range of the
      n values: with n = 3 a 95% t-interval spans most of 0..1 and says little; none with one repetition).

    ``original``: the original model's Test* accuracy, one value per repetition (a single number is
    one repetition's): dashed grey line at their mean, grey band from their lowest to their highest.
    With ``best`` (:func:`guided_retraining.tables.best_points`) each metric's selected point is a star
    at the mean inputs used and mean Test* accuracy of its repetitions' selected points. One legend
    below the panels, a caption under it. Returns the figure.
    """
    from .retraining import is_regular

    originals = np.atleast_1d(np.asarray(original, dtype=float))
    regular = points[points["point"].map(is_regular)]  # the study's curve: no atc3 and no budget points
    configurations = sorted(regular["configuration"].unique()) or ["(none)"]
    metrics = sorted(regular["metric"].unique())
    colors = {m: f"C{i % 10}" for i, m in enumerate(metrics)}
    others = [m for m in metrics if m != baseline]
    has_baseline = baseline in metrics
    n_reps = int(regular["rep"].nunique()) if len(regular) else len(originals)
    widths = [1.8] + [1.0] * len(others)
    fig, axes = plt.subplots(len(configurations), len(widths), squeeze=False, sharey=True, sharex="row",
                             figsize=(4.5 + 2.5 * len(others), 2.7 * len(configurations) + 0.5),
                             gridspec_kw={"width_ratios": widths}, layout="constrained")

    def curve(group):
        return group.groupby("point").agg(x=("inputs_used", "mean"), y=("acc_test_star", "mean"),
                                          low=("acc_test_star", "min"),
                                          high=("acc_test_star", "max")).sort_values("x")

    def star(ax, configuration, metric):
        if best is None:
            return
        chosen = best[(best["configuration"] == configuration) & (best["metric"] == metric)]
        if len(chosen):
            ax.plot(chosen["inputs_used"].mean(), chosen["acc_test_star"].mean(), marker="*", markersize=10,
                    color=colors[metric], markeredgecolor="black", markeredgewidth=0.6, linestyle="none", zorder=5)

    def originals_line(ax):
        if len(originals) > 1 and originals.max() > originals.min():
            ax.axhspan(originals.min(), originals.max(), color="grey", alpha=0.15, linewidth=0)
        ax.axhline(originals.mean(), color="grey", linestyle="--", linewidth=1)

    values = [originals]
    for row, configuration in zip(axes, configurations):
        sub = regular[regular["configuration"] == configuration]
        curves = {m: curve(g) for m, g in sub.groupby("metric", sort=True)}
        overview = row[0]
        originals_line(overview)
        for metric, c in curves.items():
            overview.plot(c["x"], c["y"], marker="o", markersize=2.5, linewidth=1.2, color=colors[metric])
            star(overview, configuration, metric)
            values += [c["low"].to_numpy(), c["high"].to_numpy()]
        overview.set_title(configuration_title(configuration), fontsize=10, loc="left")
        overview.set_ylabel("accuracy on Test*")
        overview.set_xlabel("inputs used")
        for ax, metric in zip(row[1:], others):
            originals_line(ax)
            drawn = [baseline] if has_baseline and baseline in curves else []
            for name in drawn + ([metric] if metric in curves else []):
                c = curves[name]
                color = "grey" if name == baseline else colors[name]
                if n_reps > 1:
                    ax.fill_between(c["x"], c["low"], c["high"], color=color, alpha=0.2, linewidth=0)
                ax.plot(c["x"], c["y"], linewidth=1.2 if name != baseline else 1.0, color=color,
                        marker="o" if name != baseline else None, markersize=2)
            star(ax, configuration, metric)
            ax.set_title(f"{configuration}: {metric}" + (f" vs {baseline}" if has_baseline else ""), fontsize=9)
            ax.tick_params(labelsize=7)
        for ax in row:
            ax.grid(alpha=0.3)
    finite = np.concatenate([np.ravel(v) for v in values]) if values else np.array([])
    finite = finite[np.isfinite(finite)]
    if len(finite):
        low, high = float(finite.min()), float(finite.max())
        pad = 0.05 * (high - low) + 0.01
        axes[0][0].set_ylim(max(0.0, low - pad), min(1.0, high + pad) if high <= 1 else high + pad)
    handles = [Line2D([], [], color=colors[m], marker="o", markersize=3, linewidth=1.2, label=m) for m in metrics]
    handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=1,
                          label=f"original ({'mean; band: min-max' if len(originals) > 1 else 'repetition 1'})"))
    if best is not None:
        handles.append(Line2D([], [], color="white", marker="*", markersize=10, markerfacecolor="lightgrey",
                              markeredgecolor="black", markeredgewidth=0.6, linestyle="none", label="best point"))
    if n_reps > 1 and others:
        handles.append(Patch(color="grey", alpha=0.3, label=f"min-max over the {_repetitions_text(n_reps)}"))
    fig.suptitle(title, fontsize=11)
    bands = (f"bands: lowest to highest of the {_repetitions_text(n_reps)}" if n_reps > 1
             else "no bands (one repetition)")
    caption = (f"Lines: mean Test* accuracy over {_repetitions_text(n_reps)} at each data point (x: inputs used). "
               f"Left: every metric; right: each metric (colour) against {baseline} (grey), {bands}. "
               + (f"Dashed grey: the original models' mean over {_repetitions_text(len(originals))} (grey band: "
                  "lowest to highest). " if len(originals) > 1 else "Dashed grey: the original model. ") +
               "Stars: mean of the repetitions' best points.")
    return _finish(fig, paths, caption, handles)


def paired_share_heatmap(pairs: pd.DataFrame, title: str, paths):
    """One panel per configuration (titled :func:`configuration_title`): the paired share of the row metric
    against the column metric (the share of repetitions where the row metric is better, ties half; from
    :func:`guided_retraining.statistics.pairs` of one endpoint), value in each cell, ``*`` where the
    signed-rank p-value Holm-corrected over the panel's pairs (the family of ``statistics_pairs``) is
    below 0.05. Returns the figure."""
    configurations = sorted(pairs["configuration"].unique()) or ["(none)"]
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.0 * len(configurations), 4.2), squeeze=False,
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
        ax.set_xticks(range(len(metrics)), metrics, rotation=45, fontsize=7, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(metrics)), metrics, fontsize=7)
        ax.set_xlabel("column: other metric", fontsize=8)
        ax.set_title(configuration_title(configuration), fontsize=9)
    axes[0][0].set_ylabel("row: metric", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="paired share (row beats column; ties half)")
    fig.suptitle(title, fontsize=11)
    n = int(pairs["n"].max()) if len(pairs) and pairs["n"].notna().any() else 0
    caption = (f"Cell: share of the {_repetitions_text(n)} in which the row metric's value beats the column "
               "metric's in the same repetition (ties half; 0.5 = no difference); * = Holm-corrected signed-rank "
               "p < 0.05.")
    return _finish(fig, paths, caption)


def budget_differences(against: pd.DataFrame, title: str, paths, baseline: str = "random"):
    """Beside Figure 3: one panel per configuration (titled :func:`configuration_title`, one y range), the
    mean paired difference of Test* accuracy to ``baseline`` (metric minus baseline, over the repetitions)
    against the budget's inputs used, with its 95% t-interval as error bars, one line per metric (in Figure 3's
    colours), the metrics set side by side around each budget so that no error bar hides another. ``against``:
    the budget endpoints' rows of :func:`guided_retraining.statistics.pairs` with ``other == baseline``, plus
    ``inputs_used_mean``. Returns the figure."""
    configurations = sorted(against["configuration"].unique()) or ["(none)"]
    metrics = sorted(against["metric"].unique())
    colors = {m: f"C{i % 10}" for i, m in enumerate(sorted(set(metrics) | {baseline}))}  # Figure 3's colours
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.2 * len(configurations), 3.6), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, configuration in zip(axes[0], configurations):
        sub = against[against["configuration"] == configuration]
        budgets = np.unique(sub["inputs_used_mean"].to_numpy(dtype=float))
        gap = np.diff(budgets).min() if len(budgets) > 1 else max(0.2 * budgets.max(initial=1.0), 1.0)
        step = 0.5 * gap / max(len(metrics), 1)  # metrics side by side at each budget: no error bar hides another
        for i, metric in enumerate(metrics):
            group = sub[sub["metric"] == metric].sort_values("inputs_used_mean", kind="stable")
            if group.empty:
                continue
            low = (group["diff_mean"] - group["diff_ci_low"]).fillna(0).to_numpy()
            high = (group["diff_ci_high"] - group["diff_mean"]).fillna(0).to_numpy()
            ax.errorbar(group["inputs_used_mean"] + (i - (len(metrics) - 1) / 2) * step, group["diff_mean"],
                        yerr=[low, high], marker="o", markersize=3, linewidth=1.2, capsize=2.5, color=colors[metric])
        ax.axhline(0, color="grey", linestyle="--", linewidth=1)
        ax.set_title(configuration_title(configuration), fontsize=10)
        ax.set_xlabel("budget (inputs used)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"Test* accuracy minus {baseline}'s")
    handles = [Line2D([], [], color=colors[m], marker="o", markersize=3, label=m) for m in metrics]
    fig.suptitle(title, fontsize=11)
    n = int(against["n"].max()) if len(against) and against["n"].notna().any() else 0
    caption = (f"Mean paired difference (metric minus {baseline} in the same repetition) at each fixed budget over "
               f"{_repetitions_text(n)}, metrics side by side around the budget; error bars: 95% Student t-interval "
               "(none with one repetition); dashed: no difference.")
    if against.empty:
        axes[0][0].text(0.5, 0.5, "no fixed budgets", transform=axes[0][0].transAxes, ha="center", va="center")
        caption = "No fixed budgets in this run (aggregate.budgets is empty): nothing to compare."
    return _finish(fig, paths, caption, handles)


# No date or random id in the files, so identical runs give byte-identical figures: PDF and PS creation
# dates left out (Matplotlib's ``metadata``), SVG ids from a fixed salt.
_METADATA = {"pdf": {"CreationDate": None, "ModDate": None}, "ps": {"CreationDate": None},
             "svg": {"Date": None}, "png": {}}
CAPTION_FONTSIZE = 8
_PAD = 0.06  # inches between the caption, the legend and the panels


def _finish(fig, paths, caption: str, handles=None):
    """Lay ``fig`` out for reading and save it (:func:`_save`); returns it.

    Below the panels: the legend of ``handles`` (one for the figure, centred, as many columns as fit
    the width) and, under it, ``caption`` (wrapped to the figure's width). The figure grows by their
    height, so the panels keep their size; the figure's constrained layout (every figure is made with
    ``layout="constrained"``) places the panels, titles, tick labels and colour bars above them, inside
    the figure.
    """
    width, height = fig.get_size_inches()
    renderer = fig.canvas.get_renderer()
    for title in ([fig._suptitle] if fig._suptitle else []) + [a.title for a in fig.axes]:
        _fit(title, renderer, 0.97 * width * fig.dpi)  # a title wider than the figure wraps
    text = fig.text(width / 2, _PAD, caption, transform=fig.dpi_scale_trans, ha="center", va="bottom",
                    fontsize=CAPTION_FONTSIZE, color="0.25")
    _fit(text, renderer, 0.97 * width * fig.dpi)
    bottom = text.get_window_extent(renderer).height / fig.dpi + 2 * _PAD
    if handles:
        for ncols in range(len(handles), 0, -1):  # as many columns as fit the width
            legend = fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(width / 2, bottom),
                                bbox_transform=fig.dpi_scale_trans, ncols=ncols, fontsize=8, frameon=False,
                                handlelength=1.8, columnspacing=1.2, borderaxespad=0)
            if ncols == 1 or legend.get_window_extent(renderer).width <= 0.97 * width * fig.dpi:
                break
            legend.remove()
        bottom += legend.get_window_extent(renderer).height / fig.dpi + _PAD
    fig.set_size_inches(width, height + bottom)
    total = height + bottom  # constrained layout's rect: left, bottom, width, height (figure fractions)
    fig.get_layout_engine().set(rect=(0, bottom / total, 1, (total - bottom - _PAD) / total))
    _save(fig, paths)
    return fig


def _fit(text, renderer, max_px: float) -> None:
    """Wrap ``text`` (a Text artist) into lines until it is at most ``max_px`` wide."""
    words = " ".join(text.get_text().split())
    chars = len(words)
    while text.get_window_extent(renderer).width > max_px and chars > 20:
        chars = int(chars * 0.9)
        text.set_text("\n".join(textwrap.wrap(words, chars)))


def _save(fig, paths) -> None:
    """Write ``fig`` atomically to each of ``paths`` (format from the suffix) and close it.
    The same figure gives byte-identical files (no creation dates; fixed SVG hash salt)."""
    for path in paths:
        suffix = "." + str(path).rsplit(".", 1)[-1]
        fmt = suffix[1:].lower()
        with atomic_path(path, suffix=suffix) as tmp, matplotlib.rc_context({"svg.hashsalt": "guided-retraining"}):
            fig.savefig(tmp, dpi=150, format=fmt, metadata=_METADATA.get(fmt))
    plt.close(fig)


def defences(frame: pd.DataFrame, title: str, paths):
    """Grouped bars: accuracy of each defence (group) under each attack (bar). Returns the figure."""
    attacks = [c for c in frame.columns if c not in ("dataset", "defence", "repetitions")]
    fig, ax = plt.subplots(figsize=(1.6 + 1.6 * len(frame), 3.6), layout="constrained")
    width = 0.8 / max(len(attacks), 1)
    x = np.arange(len(frame))
    for i, attack in enumerate(attacks):
        ax.bar(x + (i - (len(attacks) - 1) / 2) * width, frame[attack], width, label=attack)
    ax.set_xticks(x, [d.replace("_", " ") for d in frame["defence"]], fontsize=8)
    ax.set_ylabel("accuracy on Test")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    n = int(frame["repetitions"].max()) if "repetitions" in frame and len(frame) else 1
    caption = (f"Bars: accuracy on Test of each defence (group) under each attack (colour; none = clean inputs), "
               f"mean over {_repetitions_text(n)}.")
    return _finish(fig, paths, caption, [Patch(color=h.patches[0].get_facecolor(), label=f"attack: {label}")
                                         for h, label in zip(handles, labels)])


def _panels(n: int, width: float = 3.4, height: float = 2.8, max_cols: int = 3):
    """A figure with ``n`` panels on a grid of at most ``max_cols`` columns; unused panels hidden."""
    cols = max(1, min(max_cols, n))
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.5), squeeze=False,
                             layout="constrained")
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


#: AUC at or above which a metric whose clean inputs are in their own reference set is flagged as an artefact
ARTEFACT_AUC = 0.95


def clean_in_own_reference(score: dict) -> bool:
    """Whether a score result (the score job's JSON) scored the clean inputs against a reference set that
    holds them: a surprise-type metric with the training set as reference (``reference: train``, the
    study's) and ``exclude_self`` off. Its clean inputs are then their own nearest reference (DSA 0,
    LSA at a kernel's peak), so it separates clean from adversarial inputs by construction (README:
    "The SA reference set")."""
    options = (score.get("info") or {}).get("options") or {}
    return options.get("reference") == "train" and not options.get("exclude_self", False)


def score_distributions(scores: dict[str, np.ndarray], n_train: int, title: str, paths, bins: int = 30,
                        self_reference=()):
    """Histograms of each metric's scores over Train*, clean training inputs against adversarial inputs.

    ``scores`` maps a metric to its scores over Train* (rows ``< n_train`` are the clean
    training inputs, the rest Adv.Train). One panel per metric, sorted by name; both
    groups share the panel's bins and are drawn as densities, as Adv.Train is much
    smaller than Train. Each panel's title gives the :func:`separation_auc` (how well
    the descending score puts adversarial inputs first); a metric of ``self_reference``
    (:func:`clean_in_own_reference`) with an AUC of at least :data:`ARTEFACT_AUC` is titled
    in red as an artefact: its clean inputs are in their own reference set. A panel whose
    scores have a long tail is drawn on a signed log scale (see :func:`_tame_tail`; its x
    label says so). Non-finite scores are left out of the histogram and counted in the title.
    Saved to each of ``paths``; returns the figure.
    """
    metrics = sorted(scores)
    fig, axes = _panels(len(metrics))
    flagged = []
    for ax, metric in zip(axes, metrics):
        raw = np.asarray(scores[metric], dtype=float)
        auc = separation_auc(raw[:n_train], raw[n_train:])
        values, log_scale = _tame_tail(raw)
        clean, adversarial = values[:n_train], values[n_train:]
        finite = values[np.isfinite(values)]
        edges = np.histogram_bin_edges(finite if len(finite) else np.zeros(1), bins=bins)
        for group, color in ((clean, "tab:blue"), (adversarial, "tab:red")):
            group = group[np.isfinite(group)]
            if len(group):
                ax.hist(group, bins=edges, density=True, histtype="stepfilled", alpha=0.35, color=color)
                ax.hist(group, bins=edges, density=True, histtype="step", color=color, linewidth=1)
        subtitle = f"{metric} (AUC {auc:.2f})"
        dropped = int((~np.isfinite(values)).sum())
        if dropped:
            subtitle += f", {dropped} non-finite"
        artefact = metric in self_reference and auc >= ARTEFACT_AUC
        if artefact:
            flagged.append(metric)
            subtitle = f"{metric}: AUC {auc:.2f}: artefact,\nclean inputs in their own reference"
        ax.set_title(subtitle, fontsize=9, color="darkred" if artefact else "black")
        ax.set_xlabel("sign(s) log10(1 + |s|) of score s" if log_scale else "score", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if axes:
        axes[0].set_ylabel("density")
    handles = [Patch(facecolor="tab:blue", alpha=0.5, edgecolor="tab:blue", label=f"clean (Train, n = {n_train})"),
               Patch(facecolor="tab:red", alpha=0.5, edgecolor="tab:red",
                     label=f"adversarial (Adv.Train, n = {len(next(iter(scores.values()), [])) - n_train})")]
    fig.suptitle(title, fontsize=11)
    caption = ("Densities of each metric's scores over Train*; AUC: probability that an adversarial input scores above"
               " a clean one (ties half; 0.5 = no separation).")
    if flagged:
        caption += (f" Red: {', '.join(flagged)} scored the clean inputs against a reference set holding them"
                    " (reference: train, exclude_self: false), so the separation is an artefact; see exclude_self.")
    return _finish(fig, paths, caption, handles)


def adversarial_share_figure(share: pd.DataFrame, overall: float, title: str, paths):
    """Draw :func:`guided_retraining.tables.adversarial_share`'s rows of one dataset/attack: inputs used against share adversarial.

    One line per metric; the dashed line is ``overall``, the adversarial share of the
    whole of Train* (what a metric blind to adversarial inputs selects on average).
    Saved to each of ``paths``; returns the figure.
    """
    fig, ax = plt.subplots(figsize=(5.6, 3.8), layout="constrained")
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
    ax.set_title(title, fontsize=10)
    handles, _ = ax.get_legend_handles_labels()
    caption = ("Share of adversarial inputs among the first x inputs of Train* in each metric's order (the inputs of"
               " the C1/C2 data points; repetition 1); dashed: the share in all of Train*.")
    return _finish(fig, paths, caption, handles)


def deepcustom_heatmap(frame: pd.DataFrame, title: str, paths):
    """Seed 003's robustness matrix as a heat map: models (rows) x attacks (columns), accuracy on Test in each
    cell. Returns the figure."""
    attacks = [c for c in frame.columns if c not in ("dataset", "model", "repetitions")]
    values = frame[attacks].to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(3.6 + 0.95 * len(attacks), 2.4 + 0.45 * len(frame)), layout="constrained")
    im = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(attacks)), attacks, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(frame)), list(frame["model"]))
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if values[i, j] > 0.6 else "white")
    ax.set_xlabel("attack (on Test)")
    ax.set_ylabel("model (adversarially trained on)")
    fig.colorbar(im, ax=ax, label="accuracy")
    ax.set_title(title, fontsize=10)
    n = int(frame["repetitions"].max()) if "repetitions" in frame and len(frame) else 1
    caption = f"Cell: accuracy on Test of the row's model under the column's attack, mean over {_repetitions_text(n)}."
    return _finish(fig, paths, caption)


def training_curves(histories: dict[str, dict], title: str, paths):
    """Training graphs as run 004 shows them: per epoch, the mean training loss and the validation loss
    (left) and the validation accuracy (right) of each model (``histories``: model name -> its training
    JSON, with ``losses``, ``val_acc``, ``val_loss`` and ``best_epoch``); the epoch whose weights were
    kept is marked. A model without epochs (given by its weights) is named in the legend as not trained.
    One legend below both panels. Returns the figure."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9.0, 3.6), layout="constrained")
    handles = []
    for i, (name, h) in enumerate(histories.items()):
        color = f"C{i % 10}"
        losses, val_acc, val_loss = h.get("losses") or [], h.get("val_acc") or [], h.get("val_loss") or []
        if not losses:
            handles.append(Line2D([], [], color=color, label=f"{name} (not trained: given weights)"))
            continue
        handles.append(Line2D([], [], color=color, marker="o", markersize=2.5, label=name))
        epochs = np.arange(1, len(losses) + 1)
        loss_ax.plot(epochs, losses, marker="o", markersize=2.5, color=color)
        if val_loss:
            loss_ax.plot(epochs[:len(val_loss)], val_loss, linestyle="--", color=color)
        if val_acc:
            acc_ax.plot(epochs[:len(val_acc)], val_acc, marker="o", markersize=2.5, color=color)
            best = int(h.get("best_epoch") or len(val_acc))
            if 1 <= best <= len(val_acc):
                acc_ax.plot(best, val_acc[best - 1], marker="*", markersize=11, color=color, markeredgecolor="black",
                            markeredgewidth=0.6, linestyle="none")
    handles += [Line2D([], [], color="black", label="training loss"),
                Line2D([], [], color="black", linestyle="--", label="validation loss"),
                Line2D([], [], color="white", marker="*", markersize=10, markerfacecolor="lightgrey",
                       markeredgecolor="black", markeredgewidth=0.6, linestyle="none", label="weights kept")]
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss (cross-entropy)")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("validation accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(title, fontsize=11)
    caption = ("Left: mean training loss per epoch (solid) and validation loss (dashed); right: validation accuracy;"
               " star: the epoch whose weights were kept.")
    return _finish(fig, paths, caption, handles)


def objectives_heatmap(table: pd.DataFrame, title: str, paths, baseline: str = "random"):
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
        ax.set_xticks(range(len(attacks)), attacks, rotation=45, fontsize=7, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(metrics)), metrics, fontsize=7)
        against = baseline if sub["gain_mean"].notna().any() else "random's expectation"
        ax.set_title(f"{scope}: {endpoint}\n(gain over {against})", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=list(axes.flat), shrink=0.8, label=f"gain over {baseline} (> 0 better)")
    fig.suptitle(title, fontsize=11)
    n = int(rows["n"].max()) if "n" in rows and len(rows) and rows["n"].notna().any() else 0
    caption = (f"Cell: mean paired gain over {baseline} over the {_repetitions_text(n)} (> 0: better than "
               f"{baseline}; estimation: {baseline}'s error minus the metric's); * = Holm-corrected p < 0.05.")
    return _finish(fig, paths, caption)
