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


# --- 11. defended models stop early on the validation split; patience without one stops the run ------------

import logging  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from guided_retraining.io import load_json, save_npz  # noqa: E402
from conftest import Files, script  # noqa: E402

LOG = logging.getLogger("test_protocol")



@pytest.fixture
def digits_split(tmp_path, digits_data):
    x, y, xr, yr = digits_data
    save_npz(tmp_path / "data.npz", x_train=x[:600], y_train=y[:600], x_val=xr[:300], y_val=yr[:300],
             x_test=xr[300:], y_test=yr[300:])
    save_npz(tmp_path / "noval.npz", x_train=x[:600], y_train=y[:600], x_val=xr[:0], y_val=yr[:0],
             x_test=xr[300:], y_test=yr[300:])
    return tmp_path


def run_defend(root, defence, train, data="data.npz"):
    settings = {"adversarial_training": {"attack": "fgsm", "eps": 0.1, "alpha_mix": 0.5},
                "feature_squeezing": {"size": 2}}[defence]
    out = root / defence
    job = SimpleNamespace(
        input=Files(data=str(root / data)),
        output=Files(model=str(out / "model.pt"), summary=str(out / "train.json")),
        params=SimpleNamespace(arch="digits_cnn", train=train, settings=settings, device="cpu", seed=0),
        wildcards=SimpleNamespace(dataset="digits", rep="1", defence=defence))
    script("defend").main(job, LOG)
    return load_json(out / "train.json")


@pytest.mark.parametrize("defence", ["adversarial_training", "feature_squeezing"])
def test_defended_models_stop_early_on_the_validation_split(digits_split, defence):
    summary = run_defend(digits_split, defence, {"epochs": 40, "batch_size": 64, "lr": 0.01, "patience": 1})
    assert summary["stopped_early"] and summary["epochs_run"] < 40  # run 004: early stopping, not all epochs
    assert len(summary["val_acc"]) == len(summary["losses"]) == summary["epochs_run"]
    assert summary["best_epoch"] == int(np.argmax(summary["val_acc"])) + 1
    assert summary["epochs_run"] == summary["best_epoch"] + 1  # patience 1: one epoch without a better one


def test_defended_models_record_validation_accuracy_without_early_stopping(digits_split):
    summary = run_defend(digits_split, "feature_squeezing", {"epochs": 2, "batch_size": 64})
    assert len(summary["val_acc"]) == summary["epochs_run"] == 2 and not summary["stopped_early"]


def test_patience_without_validation_inputs_stops_with_one_line(digits_split, digits_data):
    from guided_retraining.models import build_model
    from guided_retraining.training import TrainSettings, fit

    with pytest.raises(ConfigError, match=r"^train.patience: .*no validation inputs"):
        run_defend(digits_split, "adversarial_training", {"epochs": 3, "batch_size": 64, "patience": 1},
                   data="noval.npz")
    assert not (digits_split / "adversarial_training/model.pt").exists()  # nothing written
    x, y, _, _ = digits_data
    with pytest.raises(ConfigError, match="train.patience"):
        fit(build_model("digits_cnn", (1, 8, 8), 10, seed=0), x[:64], y[:64],
            TrainSettings(epochs=1, batch_size=64, patience=2), seed=0)


@pytest.mark.parametrize("key", ["datasets", "retrain", "deepcustom"])
def test_patience_on_a_split_without_validation_is_a_config_error(key):
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    config["datasets"]["digits"]["split"] = {"mode": "merged", "fractions": [0.8, 0.0, 0.2]}
    {"datasets": config["datasets"]["digits"]["train"], "retrain": config["retrain"]["train"],
     "deepcustom": config.setdefault("deepcustom", {}).setdefault("train", {})}[key]["patience"] = 2
    validate_schema(config, SCHEMA)
    expected = {"datasets": "datasets.digits.train.patience", "retrain": "retrain.train.patience",
                "deepcustom": "deepcustom.train.patience"}[key]
    with pytest.raises(ConfigError, match=rf"^{expected}: early stopping .* dataset digits gives no validation"):
        check_semantics(config, check_data=False)
    config["datasets"]["digits"]["split"]["fractions"] = [0.7, 0.2, 0.1]
    check_semantics(config, check_data=False)


# --- 3. Table 5 charges each metric only the forward passes it reads -------------------------------------

def test_each_metric_is_charged_only_what_it_reads():
    from guided_retraining.metrics import charged_inputs

    assert charged_inputs("random", {}, []) == []  # the study's Table 5: 00:00:00
    assert charged_inputs("mc_dropout", {}, []) == []  # its own dropout passes are in its time
    assert charged_inputs("nc", {}, ["dense1"]) == ["dense1"]  # no softmax pass
    assert charged_inputs("dsa", {"reference": "train"}, ["dense1"]) == ["dense1"]
    assert charged_inputs("lsa", {"reference": "validation"}, ["dense1"]) == ["dense1", "dense1:validation"]
    assert charged_inputs("deepgini", {}, []) == ["softmax"]
    assert charged_inputs("nns", {}, ["dense1"]) == ["dense1", "softmax"]


# --- 4. retraining time per configuration and metric (seed 001's third outcome) ------------------------------

def test_retraining_time_sums_the_points_and_averages_the_repetitions():
    from guided_retraining import tables

    def rec(rep, metric, point, seconds, cpu):
        return {"dataset": "d", "attack": "a", "rep": rep, "configuration": "C2", "metric": metric, "point": point,
                "retrain_seconds": seconds, "retrain_cpu_seconds": cpu}

    records = [rec(1, "dsa", "p1", 1.0, 0.5), rec(1, "dsa", "p2", 2.0, 1.5), rec(1, "dsa", "atc3", 50.0, 50.0),
               rec(1, "dsa", "f0.25", 60.0, 60.0), rec(2, "dsa", "n40", 70.0, 70.0), rec(2, "dsa", "p1", 3.0, 2.5), rec(2, "dsa", "p2", 4.0, 3.5), rec(1, "random", "p1", 7200.0, 7000.0),
               rec(1, "random", "p2", 3.0, 1.0)]
    t = tables.retraining_time(records)
    assert list(t.columns) == tables.RETRAINING_TIME_COLUMNS
    dsa, rnd = t.set_index("metric").loc["dsa"], t.set_index("metric").loc["random"]
    assert (dsa["points"], dsa["repetitions"]) == (2, 2)  # neither C2's extra point at C3's total nor a budget point
    assert dsa["seconds"] == 5.0 and dsa["cpu_seconds"] == 4.0  # (1 + 2 + 3 + 4) / 2, (0.5 + 1.5 + 2.5 + 3.5) / 2
    assert rnd["seconds"] == 7203.0 and rnd["hh:mm:ss"] == "02:00:03" and rnd["repetitions"] == 1


@pytest.mark.workflow
def test_retraining_time_table_in_the_tiny_run(tiny_run):
    from guided_retraining import tables
    from guided_retraining.tables import read_csv

    record = load_json(tiny_run / "results/digits/r1/fgsm/retrain/C1/dsa/p1.json")
    assert record["retrain_seconds"] > 0 and record["retrain_cpu_seconds"] > 0
    t = read_csv(tiny_run / "results/tables/retraining_time.csv")
    assert list(t.columns) == tables.RETRAINING_TIME_COLUMNS and len(t) == 3 * 6  # configurations x metrics
    assert (t.points == 3).all() and (t.repetitions == 1).all() and (t.seconds > 0).all()
    c1 = t[(t.configuration == "C1") & (t.metric == "dsa")].iloc[0]
    sums = [load_json(tiny_run / f"results/digits/r1/fgsm/retrain/C1/dsa/p{k}.json") for k in (1, 2, 3)]
    assert c1.seconds == pytest.approx(sum(r["retrain_seconds"] for r in sums))
    assert (tiny_run / "results/tables/retraining_time.md").read_text().startswith("# Retraining time")


# --- 12. training graphs of the original and defended models ---------------------------------------------

def test_training_curves_are_byte_identical_and_undated(tmp_path):
    from guided_retraining import plots

    histories = {"original": {"losses": [1.2, 0.6, 0.5], "val_acc": [0.7, 0.8, 0.79], "val_loss": [0.9, 0.6, 0.62],
                              "best_epoch": 2},
                 "adversarial_training": {"losses": [1.5, 1.0], "val_acc": [0.6, 0.7], "val_loss": [1.1, 0.9],
                                          "best_epoch": 2},
                 "given": {}}
    for run in ("a", "b"):
        plots.training_curves(histories, "Training: d", [tmp_path / f"{run}.png", tmp_path / f"{run}.pdf"])
    for ext in ("png", "pdf"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (tmp_path / f"b.{ext}").read_bytes(), ext
    assert b"CreationDate" not in (tmp_path / "a.pdf").read_bytes()


@pytest.mark.workflow
def test_training_graph_of_the_original_model_in_the_tiny_run(tiny_run):
    summary = load_json(tiny_run / "results/digits/r1/original/train.json")
    assert len(summary["losses"]) == len(summary["val_acc"]) == len(summary["val_loss"]) == 8
    for ext in ("png", "pdf"):
        assert (tiny_run / f"results/figures/training_digits.{ext}").stat().st_size > 1000


def test_a_defence_setting_that_cannot_apply_stops_the_run():
    config = yaml.safe_load((REPO / "tests/configs/defences.yaml").read_text())
    config["defences"]["adversarial_training"]["attack_steps"] = 5  # FGSM takes no steps
    validate_schema(config, SCHEMA)
    with pytest.raises(ConfigError, match=r"^defences.adversarial_training.attack_steps: applies to attack pgd only"):
        check_semantics(config, check_data=False)
    config["defences"]["adversarial_training"]["attack"] = "pgd"
    check_semantics(config, check_data=False)
