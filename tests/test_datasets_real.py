"""Loaders on the real MNIST (shared data folder) and Fashion-MNIST (Debian's dataset-fashion-mnist)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from fixtures_datasets import shared_dir
from guided_retraining.datasets import check_available, load, split

MNIST_DIR = shared_dir() / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")

MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _timed_load(name: str, root: Path, reason: str):
    """``(raw dataset, seconds to load)``; skips with ``reason`` when ``root`` is absent."""
    if not root.is_dir():
        pytest.skip(reason)
    t0 = time.perf_counter()
    raw = load(name, root)
    return raw, time.perf_counter() - t0


@pytest.fixture(scope="module")
def mnist():
    return _timed_load("mnist", MNIST_DIR, f"real MNIST not found at {MNIST_DIR} (set GR_SHARED_DIR to the shared folder)")


@pytest.fixture(scope="module")
def fashion():
    return _timed_load("fashion_mnist", FASHION_DIR, f"{FASHION_DIR} absent: install Debian's dataset-fashion-mnist package")


def _common(raw, n_train, n_test):
    assert raw.x_train.shape == (n_train, 1, 28, 28) and raw.x_test.shape == (n_test, 1, 28, 28)
    assert raw.x_train.dtype == np.float32 and raw.y_train.dtype == np.int64 and raw.y_test.dtype == np.int64
    for x in (raw.x_train, raw.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert raw.n_classes == 10


def test_mnist_official_counts_and_labels(mnist):
    raw, seconds = mnist
    _common(raw, 60000, 10000)
    assert np.bincount(raw.y_train, minlength=10).tolist() == MNIST_TRAIN
    assert np.bincount(raw.y_test, minlength=10).tolist() == MNIST_TEST
    # a few exact pixels of the official files: first training image is a 5, 255 appears (scaled to 1.0)
    assert raw.y_train[0] == 5 and raw.y_test[0] == 7
    assert np.isclose(raw.x_train[0].sum() * 255, 27525, atol=1e-2)
    assert seconds < 10, f"MNIST took {seconds:.1f} s to load"


def test_mnist_check_is_cheap():
    if not MNIST_DIR.is_dir():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    t0 = time.perf_counter()
    check_available("mnist", MNIST_DIR)
    assert time.perf_counter() - t0 < 0.5


def test_mnist_merged_split_is_the_studys(mnist):
    raw, _ = mnist
    parts = split(raw, "merged", (0.7, 0.2, 0.1), seed=0)
    assert [len(parts[f"y_{p}"]) for p in ("train", "val", "test")] == [48999, 14000, 7001]
    assert [len(parts[f"x_{p}"]) for p in ("train", "val", "test")] == [48999, 14000, 7001]
    # every image used exactly once: the label counts add up to the dataset's
    total = sum(np.bincount(parts[f"y_{p}"], minlength=10) for p in ("train", "val", "test"))
    assert total.tolist() == [a + b for a, b in zip(MNIST_TRAIN, MNIST_TEST)]


def test_fashion_mnist_official_counts_and_labels(fashion):
    raw, seconds = fashion
    _common(raw, 60000, 10000)
    assert np.bincount(raw.y_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(raw.y_test, minlength=10).tolist() == [1000] * 10
    assert raw.y_train[0] == 9 and raw.y_test[0] == 9  # ankle boots, as in the official files
    assert seconds < 10, f"Fashion-MNIST took {seconds:.1f} s to load"
