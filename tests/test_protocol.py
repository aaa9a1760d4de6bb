"""The study's protocol where the tool reproduces it (issue 22, items 1-4, 11, 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from guided_retraining.config import check_semantics, validate_schema
from guided_retraining.datasets import prepared_sizes, split
from guided_retraining.datasets.base import RawDataset
from guided_retraining.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def effective(name: str) -> dict:
    """A shipped config as the workflow sees it: schema defaults filled in, the checks passed (no data read)."""
    config = yaml.safe_load((REPO / "config" / name).read_text())
    validate_schema(config, SCHEMA)
    check_semantics(config, check_data=False)
    return config


# --- 1. the paper configs choose the best point as the study did ---------------------------------------

@pytest.mark.parametrize("name", ["paper.yaml", "paper-v1.yaml"])
def test_paper_configs_choose_the_best_point_on_test_star_as_the_study(name):
    aggregate = effective(name)["aggregate"]
    assert aggregate["select_on"] == "test"
    assert aggregate["include_original_in_best"] is False  # 20 points, the original model not among them


# --- 2. Intel's split: the study's counts -------------------------------------------------------------

@pytest.mark.parametrize("name, totals", [("paper.yaml", {"intel": 14224, "gtsrb": 35287}),
                                          ("paper-v1.yaml", {"intel": 14224, "gtsrb": 36366})])
def test_paper_configs_give_the_studys_train_star_sizes(name, totals):
    """T = Train + Adv.Train of the study's Table 3 (v1) and Table 5's scored inputs (later version)."""
    config = effective(name)
    for dataset, total in totals.items():
        ds = config["datasets"][dataset]
        sizes = prepared_sizes(ds["loader"], ds["split"])
        assert sizes["train"] + ds["adv_train_size"] == total, dataset
    intel = config["datasets"]["intel"]
    assert prepared_sizes("intel", intel["split"]) == {"train": 11224, "val": 2804, "test": 3000}


def test_intel_original_split_with_sizes_on_arrays_of_intels_size():
    x_train = np.zeros((14034, 1, 1, 1), np.float32)
    x_train[:, 0, 0, 0] = np.arange(14034) / 14034  # each official training image recognisable
    x_test = np.ones((3000, 1, 1, 1), np.float32)
    raw = RawDataset("intel", x_train, np.arange(14034) % 6, x_test, np.arange(3000) % 6, 6)
    parts = split(raw, "original", seed=0, sizes=[11224, 2804, 3000])
    assert [len(parts[f"y_{n}"]) for n in ("train", "val", "test")] == [11224, 2804, 3000]
    train, val = parts["x_train"][:, 0, 0, 0], parts["x_val"][:, 0, 0, 0]
    assert train.max() < 1 and val.max() < 1 and not set(train) & set(val)  # official train only, disjoint
    assert len(set(train) | set(val)) == 14028  # six official training images left out
    assert np.array_equal(parts["x_test"], x_test)  # the official test split, whole
    again = split(raw, "original", seed=0, sizes=[11224, 2804, 3000])
    assert np.array_equal(again["x_train"], parts["x_train"])  # seeded
    # a 0.2 validation share gives floor(0.2 x 14,034) = 2,806 for validation: Train 11,228, not the study's
    assert len(split(raw, "original", (0.8, 0.2, 0.0))["y_train"]) == 11228
    with pytest.raises(ConfigError, match=r"split.sizes: .*14034 official training images .*3000 official test"):
        split(raw, "original", sizes=[11224, 2804, 2999])
    with pytest.raises(ConfigError, match="split.sizes"):
        split(raw, "original", sizes=[12000, 2804, 3000])


def test_original_split_sizes_are_checked_before_any_job():
    config = effective("paper-v1.yaml")
    config["datasets"]["intel"]["split"]["sizes"] = [12000, 2804, 3000]
    with pytest.raises(ConfigError, match=r"^datasets.intel.split.sizes: mode original expects"):
        check_semantics(config, check_data=False)
