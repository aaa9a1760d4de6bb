"""Same seed, same tables; another seed, another random order; a killed run resumes to the same tables."""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import CONFIGS, REPO, snakemake, write_config

from guided_retraining.tables import TABLE5_COLUMNS, read_csv

pytestmark = pytest.mark.workflow
TIMING = [c for c in TABLE5_COLUMNS if c.endswith("seconds") or c == "hh:mm:ss"]


def assert_same_tables(a, b):
    for name in ("table3.csv", "table3.md", "table4.csv", "table4.md"):
        assert (a / "results/tables" / name).read_bytes() == (b / "results/tables" / name).read_bytes(), name
    t5a, t5b = read_csv(a / "results/tables/table5.csv"), read_csv(b / "results/tables/table5.csv")
    assert t5a.drop(columns=TIMING).equals(t5b.drop(columns=TIMING))  # wall times are measurements
    for name in ("figure3_digits_fgsm.pdf", "training_digits.png", "training_digits.pdf"):
        assert (a / "results/figures" / name).read_bytes() == (b / "results/figures" / name).read_bytes(), name


def test_same_seed_gives_byte_identical_tables(tiny_run, tmp_path):
    shutil.copy(CONFIGS / "tiny.yaml", tmp_path / "tiny.yaml")
    snakemake(tmp_path, "--cores", "2", configfile=tmp_path / "tiny.yaml")
    assert_same_tables(tiny_run, tmp_path)


def test_another_seed_changes_the_random_order(tiny_run, tmp_path):
    config = write_config(tmp_path / "tiny.yaml", lambda c: c.update(seed=1))
    snakemake(tmp_path, "--cores", "2", "results/digits/r1/fgsm/orders/random.npz", configfile=config)
    first = np.load(tiny_run / "results/digits/r1/fgsm/orders/random.npz")["order"]
    other = np.load(tmp_path / "results/digits/r1/fgsm/orders/random.npz")["order"]
    assert sorted(first) == sorted(other) and not np.array_equal(first, other)


def test_sigkill_during_retraining_resumes_to_identical_tables(tiny_run, tmp_path):
    shutil.copy(CONFIGS / "tiny.yaml", tmp_path / "tiny.yaml")
    cmd = [sys.executable, "-m", "snakemake", "--directory", str(tmp_path), "--configfile",
           str(tmp_path / "tiny.yaml"), "--cores", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            cwd=REPO)
    retrained = tmp_path / "results/digits/r1/fgsm/retrain"
    deadline = time.time() + 600
    while len(list(retrained.glob("*/*/*.json"))) < 10:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(retrained.glob("*/*/*.json")))
    assert done < 3 * 6 * 3 + 6, "killed too late to test resuming"
    assert not (tmp_path / "results/tables/table3.csv").exists()
    snakemake(tmp_path, "--unlock", configfile=tmp_path / "tiny.yaml")
    resumed = snakemake(tmp_path, "--cores", "2", configfile=tmp_path / "tiny.yaml")
    assert "rule train_original" not in resumed.stderr  # finished work is reused
    assert_same_tables(tiny_run, tmp_path)
    assert not list((tmp_path / "results").rglob("*.tmp*"))
