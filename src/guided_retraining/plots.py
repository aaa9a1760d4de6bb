"""Figure 3 of the study: accuracy on Test* against inputs used, one line per metric,
one panel per configuration (one figure per dataset and attack)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_path  # noqa: E402


def figure3(points: pd.DataFrame, original: float, title: str, paths) -> None:
    """Draw the curves of one dataset/attack and save to each of ``paths`` (PNG, PDF, ...)."""
    configurations = sorted(points["configuration"].unique())
    fig, axes = plt.subplots(1, len(configurations), figsize=(4.2 * len(configurations), 3.6), squeeze=False)
    regular = points[points["point"] != "atc3"]
    for ax, configuration in zip(axes[0], configurations):
        sub = regular[regular["configuration"] == configuration]
        for metric, group in sub.groupby("metric", sort=True):
            group = group.sort_values("inputs_used")
            ax.plot(group["inputs_used"], group["acc_test_star"], marker="o", markersize=2.5, linewidth=1.2, label=metric)
        ax.axhline(original, color="grey", linestyle="--", linewidth=1, label="original")
        ax.set_title(configuration)
        ax.set_xlabel("inputs used")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy on Test*")
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, paths)


def _save(fig, paths) -> None:
    """Save ``fig`` to each path (format from the suffix), atomically, and close it."""
    for path in paths:
        suffix = "." + str(path).rsplit(".", 1)[-1]
        with atomic_path(path, suffix=suffix) as tmp:
            fig.savefig(tmp, dpi=150, format=suffix[1:])
    plt.close(fig)


def defences(frame: pd.DataFrame, title: str, paths) -> None:
    """Grouped bars: accuracy of each defence (group) under each attack (bar)."""
    import numpy as np

    attacks = [c for c in frame.columns if c not in ("dataset", "defence")]
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
    fig.tight_layout()
    _save(fig, paths)
