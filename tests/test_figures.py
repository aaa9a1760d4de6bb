"""Every figure of plots.py on small hand-made inputs: nothing clipped, nothing over the panels, a caption,
Figure 3's layout (shared y, titled configurations, every repetition's original) and the artefact warning."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from guided_retraining import plots, statistics, tables

METRICS = ["deepgini", "dsa", "random", "softmax_entropy"]
ORIGINALS = [0.55, 0.6, 0.58]


def study_points() -> pd.DataFrame:
    """3 repetitions x C1-C3 x 4 metrics x 3 points and a budget point, accuracies from a fixed formula."""
    rows = []
    for rep in (1, 2, 3):
        for c, total in (("C1", 300), ("C2", 300), ("C3", 60)):
            for i, metric in enumerate(METRICS):
                for k, point in enumerate(("p1", "p2", "p3", "f0.5")):
                    used = total // 2 if point == "f0.5" else total * (k + 1) // 3
                    acc = 0.5 + (0.1 * k) % 0.3 + 0.02 * i + 0.03 * rep + (0.1 if c == "C2" else 0.0)  # <= 0.95
                    rows.append({"dataset": "d", "attack": "a", "rep": rep, "configuration": c, "metric": metric,
                                 "point": point, "inputs_used": used, "inputs_total": total, "acc_test_star": acc,
                                 "acc_test": acc, "acc_adv_test": acc, "acc_val_star": acc,
                                 "adversarial_used": used // 4})
    return tables.points_frame(rows)


def texts(fig):
    """Every visible, non-empty text artist the figure draws: figure texts (suptitle, caption), legend texts,
    and per axes its titles, labels, annotations and the tick labels of the ticks inside its view."""
    found = [t for t in fig.texts + ([fig._suptitle] if fig._suptitle else [])]
    for legend in fig.legends:
        found += legend.get_texts()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if low - 1e-9 <= tick.get_loc() <= high + 1e-9:
                    found += [tick.label1, tick.label2]
    return [t for t in found if isinstance(t, Text) and t.get_visible() and t.get_text().strip()]


def assert_readable(fig, legend_outside=True):
    """No text leaves the figure; the suptitle overlaps no panel title; the legend (if any) and the caption
    (the lowest figure text) overlap no panel."""
    renderer = FigureCanvasAgg(fig).get_renderer()  # the closed figure drawn again as it was saved
    fig.draw(renderer)
    box = fig.bbox
    drawn = texts(fig)
    assert len(drawn) > 5
    for t in drawn:
        e = t.get_window_extent(renderer)
        assert box.x0 - 0.5 <= e.x0 and e.x1 <= box.x1 + 0.5 and box.y0 - 0.5 <= e.y0 and e.y1 <= box.y1 + 0.5, \
            f"clipped: {t.get_text()!r} {e} outside {box}"
    titles = [a.title for a in fig.axes] + [a._left_title for a in fig.axes]
    if fig._suptitle:
        sup = fig._suptitle.get_window_extent(renderer)
        for t in titles:
            if t.get_text():
                assert not sup.overlaps(t.get_window_extent(renderer)), f"suptitle runs into {t.get_text()!r}"
    panels = [a.get_window_extent(renderer) for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]
    caption = min(fig.texts, key=lambda t: t.get_window_extent(renderer).y0)
    assert "\n" not in caption.get_text() or caption.get_text().count("\n") <= 2
    blocks = [caption.get_window_extent(renderer)]
    if legend_outside:
        assert len(fig.legends) == 1 and not any(a.get_legend() for a in fig.axes)
        blocks.append(fig.legends[0].get_window_extent(renderer))
    for block in blocks:
        assert all(not block.overlaps(p) for p in panels)
    return " ".join(caption.get_text().split())


def test_figure3_is_readable_and_shows_every_original(tmp_path):
    points = study_points()
    fig = plots.figure3(points, ORIGINALS, "Figure 3: d, a", [tmp_path / "f.png"], tables.best_points(points))
    caption = assert_readable(fig)
    assert "3 repetitions" in caption and "lowest to highest" in caption
    rows = [fig.axes[i * 4:(i + 1) * 4] for i in range(3)]  # per configuration: overview + 3 metrics vs random
    assert [r[0].get_title(loc="left") for r in rows] == ["C1: new weights, Train*", "C2: original weights, Train*",
                                                          "C3: original weights, Adv.Train"]
    assert rows[1][2].get_title() == "C2: dsa vs random"
    assert len({a.get_ylim() for a in fig.axes}) == 1  # one y range for every panel
    overview = rows[0][0]
    span = [p for p in overview.patches if p.get_y() == pytest.approx(min(ORIGINALS))]
    assert len(span) == 1 and span[0].get_height() == pytest.approx(max(ORIGINALS) - min(ORIGINALS))
    assert [ln for ln in overview.lines if ln.get_ydata()[0] == pytest.approx(np.mean(ORIGINALS))]
    # each small multiple: two bands (the metric and random), each from the lowest to the highest repetition
    bands = rows[0][1].collections
    assert len(bands) == 2
    low, high = bands[1].get_paths()[0].vertices[:, 1].min(), bands[1].get_paths()[0].vertices[:, 1].max()
    c1 = points[(points.configuration == "C1") & (points.metric == "deepgini") & points.point.str.startswith("p")]
    assert (low, high) == (pytest.approx(c1.acc_test_star.min()), pytest.approx(c1.acc_test_star.max()))


def test_figure3_with_one_repetition_has_no_bands(tmp_path):
    points = study_points().query("rep == 1")
    fig = plots.figure3(points, 0.6, "Figure 3", [tmp_path / "f.png"])
    assert "no bands (one repetition)" in assert_readable(fig)
    assert not any(a.collections for a in fig.axes)


def test_statistics_figures_are_readable(tmp_path):
    points = study_points()
    values = statistics.endpoint_values(points, tables.best_points(points))
    pairs = statistics.pairs(values)
    fig = plots.paired_share_heatmap(pairs[pairs.endpoint == "best"], "Paired share, a long title: d, a",
                                     [tmp_path / "s.png"])
    assert "3 repetitions" in assert_readable(fig, legend_outside=False)
    assert [a.get_title() for a in fig.axes[:3]] == [plots.configuration_title(c) for c in ("C1", "C2", "C3")]
    against = pairs[(pairs.other == "random") & pairs.endpoint.str.startswith("budget_")].merge(
        statistics.summary(values)[statistics.ENDPOINT_GROUP + ["metric", "inputs_used_mean"]],
        on=statistics.ENDPOINT_GROUP + ["metric"])
    fig = plots.budget_differences(against, "Budgets: d, a", [tmp_path / "b.png"])
    assert "95% Student t-interval" in assert_readable(fig)
    assert len({a.get_ylim() for a in fig.axes}) == 1
    # one budget, three metrics: set side by side around it, in Figure 3's colours (random's colour skipped)
    lines = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "-"]
    assert len({float(ln.get_xdata()[0]) for ln in lines}) == 3
    assert [ln.get_color() for ln in lines] == ["C0", "C1", "C3"]
    long_title = "Paired difference to random at fixed budgets (mean, 95% CI): digits, fgsm"
    fig = plots.budget_differences(against.iloc[:0], long_title, [tmp_path / "b0.png"])
    assert "No fixed budgets in this run" in assert_readable(fig, legend_outside=False)
    assert "\n" in fig._suptitle.get_text()  # wider than the one panel: wrapped, not clipped


def test_score_figure_warns_of_the_self_reference_artefact(tmp_path):
    rng = np.random.default_rng(0)
    n_train = 200
    scores = {"dsa": np.concatenate([np.zeros(n_train), rng.uniform(0.1, 1, 50)]),  # clean: their own reference
              "deepgini": rng.uniform(0, 1, n_train + 50),
              "lsa": np.concatenate([rng.normal(0, 1, n_train), rng.normal(0, 1, 50)])}
    fig = plots.score_distributions(scores, n_train, "Scores: d, a", [tmp_path / "sc.png"],
                                    self_reference=["dsa", "lsa"])
    caption = assert_readable(fig)
    titles = {a.get_title().split(":")[0].split(" ")[0]: a.get_title() for a in fig.axes if a.get_visible()}
    assert titles["dsa"] == "dsa: AUC 1.00: artefact,\nclean inputs in their own reference"
    assert "artefact" not in titles["lsa"] and "artefact" not in titles["deepgini"]  # lsa: in its reference, no AUC
    assert "dsa scored the clean inputs against a reference set holding them" in caption
    assert plots.clean_in_own_reference({"info": {"options": {"reference": "train", "exclude_self": False}}})
    assert not plots.clean_in_own_reference({"info": {"options": {"reference": "train", "exclude_self": True}}})
    assert not plots.clean_in_own_reference({"info": {"options": {"reference": "validation"}}})
    assert not plots.clean_in_own_reference({"info": {"options": {}}})


def test_other_figures_are_readable(tmp_path):
    points = study_points().query("rep == 1")
    more = [points.assign(metric=f"metric_number_{i}") for i in range(5)]  # a legend wider than the figure
    share = tables.adversarial_share(pd.concat([points, *more]))
    assert "repetition 1" in assert_readable(plots.adversarial_share_figure(share, 0.25, "Share: d, a",
                                                                            [tmp_path / "a.png"]))
    histories = {"original": {"losses": [1.2, 0.6, 0.5], "val_acc": [0.7, 0.8, 0.79], "val_loss": [0.9, 0.6, 0.62],
                              "best_epoch": 2},
                 "adversarial_training": {"losses": [1.5, 1.0], "val_acc": [0.6, 0.7], "val_loss": [1.1, 0.9]},
                 "given": {}}
    assert "weights were kept" in assert_readable(plots.training_curves(histories, "Training: d",
                                                                         [tmp_path / "t.png"]))
    defences = pd.DataFrame({"dataset": "d", "defence": tables.DEFENCE_ORDER, "repetitions": 2,
                             "none": [0.9, 0.88, 0.85, 0.89], "fgsm": [0.2, 0.6, 0.5, 0.7]})
    assert "mean over 2 repetitions" in assert_readable(plots.defences(defences, "Defences on d", [tmp_path / "d.png"]))
    matrix = pd.DataFrame({"dataset": "d", "model": ["original", "robust_fgsm", "robust_dgn_long_name"],
                           "repetitions": 1, "fgsm": [0.1, 0.7, 0.3], "pgd_linf": [0.05, 0.5, 0.2],
                           "dgn_long_name": [0.3, 0.4, 0.9]})
    assert "mean over 1 repetition" in assert_readable(
        plots.deepcustom_heatmap(matrix, "Robustness matrix (transfer), d", [tmp_path / "m.png"]), legend_outside=False)


def test_objectives_heatmap_is_readable(tmp_path):
    from guided_retraining import objectives

    rows = []
    for attack in ("fgsm", "gaussian_noise_3"):
        for endpoint in ("apfd", "found_share_f0.1"):
            for i, metric in enumerate(METRICS):
                for rep in (1, 2, 3):
                    rows.append({"dataset": "d", "attack": attack, "objective": objectives.objective_of(endpoint),
                                 "scope": "Train*", "endpoint": endpoint, "budget": "f0.1", "inputs": 10,
                                 "metric": metric, "rep": rep, "value": 0.5 + 0.1 * i + 0.01 * rep,
                                 "random_expected": 0.5, "ideal": 1.0})
    table = objectives.objectives_table(pd.DataFrame(rows))
    fig = plots.objectives_heatmap(table, "Fault detection: d, gain over random (paired)",
                                   [tmp_path / "o.png"])
    caption = assert_readable(fig, legend_outside=False)
    assert "3 repetitions" in caption and "Holm" in caption
    assert (tmp_path / "o.png").stat().st_size > 0
