"""Repetitions, the paired design and selection without Test, on tiny real workflow runs."""

import json
import shutil

import numpy as np
import pytest
import torch

from conftest import AFTER_RESULTS, dry_run_jobs, snakemake, write_config

from guided_retraining import tables
from guided_retraining.io import load_npz, save_npz


def small(c, repetitions=2):
    """The tiny study cut to three metrics, C1 and C2, two repetitions."""
    c.update(repetitions=repetitions, configurations=["C1", "C2"])
    c["metrics"] = {m: c["metrics"][m] for m in ("nc", "deepgini", "random")}
    c["retrain"]["train"] = {"epochs": 2}


@pytest.fixture(scope="module")
def two_reps(tmp_path_factory):
    work = tmp_path_factory.mktemp("reps")
    config = write_config(work / "reps.yaml", small)
    snakemake(work, "--cores", "2", configfile=config)
    return work


def test_every_metric_gives_the_same_model_on_all_of_train_star(tiny_run):
    """Paired design: at the last point of C1 and C2 every metric trains on all of Train*, from the same
    initial weights and on the same mini-batches, so every metric gives exactly the same accuracy."""
    for configuration in ("C1", "C2"):
        results = [json.loads(p.read_text())
                   for p in (tiny_run / "results/digits/r1/fgsm/retrain").glob(f"{configuration}/*/p3.json")]
        assert len(results) == 6
        assert len({(r["acc_test_star"], r["acc_val_star"], r["init_seed"], r["train_seed"]) for r in results}) == 1
        # the orders differ between metrics, so the accuracies agree because of the design, not by accident
    orders = {m: load_npz(tiny_run / f"results/digits/r1/fgsm/orders/{m}.npz", ["order", "n_tied"])
              for m in ("nc", "deepgini", "random")}
    assert not np.array_equal(orders["nc"]["order"], orders["deepgini"]["order"])
    assert int(orders["nc"]["n_tied"]) > 0 and int(orders["random"]["n_tied"]) == 0  # NC's coverage scores tie


def test_repetitions_differ_in_weights_and_share_the_split(two_reps):
    base = two_reps / "results/digits"
    assert not (base / "r1/data.npz").exists() and (base / "data.npz").exists()  # one split for both
    first, second = (torch.load(base / f"r{r}/original/model.pt", weights_only=True) for r in (1, 2))
    assert any(not torch.equal(first[k], second[k]) for k in first)
    seeds = [json.loads((base / f"r{r}/original/train.json").read_text())["job_seed"] for r in (1, 2)]
    subsets = [load_npz(base / f"r{r}/fgsm/adversarial.npz", ["idx_adv_train"])["idx_adv_train"] for r in (1, 2)]
    assert seeds[0] != seeds[1] and not np.array_equal(*subsets)
    assert json.loads((base / "r1/fgsm/attack.json").read_text())["job_seed"] != \
        json.loads((base / "r2/fgsm/attack.json").read_text())["job_seed"]
    stats = tables.read_csv(two_reps / "results/tables/statistics.csv")
    assert set(stats["n"]) == {2} and len(stats) == 2 * 2 * 3  # C1, C2 x best, auc x nc, deepgini, random
    notes = stats[stats.metric != "random"]["note"]
    assert notes.str.contains("cannot be reached|pairs equal").all()


def test_raising_repetitions_runs_only_the_new_ones(two_reps):
    config = write_config(two_reps / "reps3.yaml", lambda c: small(c, repetitions=3))
    jobs = dry_run_jobs(two_reps, config)
    new = [(rule, wc) for rule, wc in jobs if rule not in AFTER_RESULTS]
    assert new and all(wc.get("rep") == "3" for _, wc in new), jobs
    assert {rule for rule, _ in new} == {"train_original", "attack", "activations", "score", "order", "retrain"}


def test_a_split_per_repetition_is_planned_per_repetition(tmp_path):
    def change(c):
        small(c)
        c["datasets"]["digits"]["split"]["per_repetition"] = True

    jobs = dry_run_jobs(tmp_path, write_config(tmp_path / "split.yaml", change))
    assert sorted(wc["rep"] for rule, wc in jobs if rule == "prepare_repetition") == ["1", "2"]
    assert not [rule for rule, _ in jobs if rule == "prepare"]


def test_a_split_per_repetition_is_made_per_repetition(tmp_path):
    """prepare_repetition (a variant of prepare: `use rule`) runs prepare's script with the repetition's seed:
    its own split, with the same sizes as repetition 1's."""
    def change(c):
        small(c)
        c["datasets"]["digits"]["split"]["per_repetition"] = True

    config = write_config(tmp_path / "split.yaml", change)
    snakemake(tmp_path, "--cores", "1", "results/digits/r1/data.npz", "results/digits/r2/data.npz", configfile=config)
    first, second = (load_npz(tmp_path / f"results/digits/r{r}/data.npz") for r in (1, 2))
    assert [len(first[k]) for k in ("y_train", "y_val", "y_test")] == [len(second[k]) for k in ("y_train", "y_val", "y_test")]
    assert not np.array_equal(first["x_train"], second["x_train"])
    seeds = [json.loads((tmp_path / f"results/digits/r{r}/data.json").read_text())["seed"] for r in (1, 2)]
    assert seeds[0] == 0 and seeds[1] != 0


def test_selection_never_reads_test(two_reps, tmp_path):
    """A Test with shuffled labels re-runs every job and leaves the selected points unchanged."""
    work = tmp_path / "shuffled"
    shutil.copytree(two_reps, work, ignore=shutil.ignore_patterns(".snakemake"))
    data = dict(np.load(work / "results/digits/data.npz", allow_pickle=False))
    data["y_test"] = np.random.default_rng(0).permutation(data["y_test"])
    save_npz(work / "results/digits/data.npz", **data)
    snakemake(work, "--cores", "2", configfile=work / "reps.yaml")
    keys = tables.KEYS + ["inputs_used"]
    before = tables.read_csv(two_reps / "results/tables/table3.csv")
    after = tables.read_csv(work / "results/tables/table3.csv")
    assert (after["selected_on"] == "validation").all()
    assert before[keys].equals(after[keys])
    assert not np.allclose(before["best_acc"], after["best_acc"])  # Test* did change: the jobs did re-run
