"""Fast DSA and LSA against the plain per-input definitions; LSA robustness."""

import importlib
import json
import logging

import numpy as np
import pytest

from guided_retraining.metrics import dsa, lsa
from guided_retraining.metrics.reference import dsa_plain, lsa_plain

RTOL = 1e-6
DSA_MODULE = importlib.import_module("guided_retraining.metrics.dsa")  # the package's `dsa` is the function
LSA_MODULE = importlib.import_module("guided_retraining.metrics.lsa")
SHAPES = [  # reference inputs, targets, neurons, classes
    (60, 25, 2, 2),
    (300, 120, 8, 3),
    (400, 150, 24, 5),
]


def _data(seed, n_ref, n_t, d, classes, relu=False):
    """Class-structured traces: Gaussian clusters per class (optionally ReLU)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, d))
    tp = np.arange(n_ref) % classes
    train = centers[tp] + rng.normal(size=(n_ref, d))
    xp = rng.integers(0, classes, n_t)
    target = centers[xp] + 1.3 * rng.normal(size=(n_t, d))
    if relu:
        train, target = np.maximum(train, 0), np.maximum(target, 0)
    # a third of the targets are reference inputs themselves (as in the study)
    k = n_t // 3
    target[:k], xp[:k] = train[:k], tp[:k]
    ref_index = np.full(n_t, -1)
    ref_index[:k] = np.arange(k)
    return train.astype(np.float32), tp, target.astype(np.float32), xp, ref_index


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("exclude", [False, True])
def test_dsa_matches_plain(shape, exclude):
    train, tp, target, xp, ref_index = _data(sum(shape), *shape)
    ex = ref_index if exclude else None
    fast = dsa(train, tp, target, xp, exclude_self=ex, memory_mb=0.02)  # a few rows per chunk
    plain = dsa_plain(train, tp, target, xp, exclude_self=ex)
    np.testing.assert_allclose(fast, plain, rtol=RTOL, atol=0)
    assert (plain == 0).any() != exclude


def test_dsa_relu_ties_and_mismatched_self_class():
    train, tp, target, xp, ref_index = _data(5, 200, 80, 6, 3, relu=True)
    train[10:20] = 0.0  # duplicate all-zero traces (dead inputs)
    xp[:5] = (tp[:5] + 1) % 3  # target's class differs from its own reference trace's
    fast = dsa(train, tp, target, xp, exclude_self=ref_index, memory_mb=0.02)
    np.testing.assert_allclose(fast, dsa_plain(train, tp, target, xp, exclude_self=ref_index), rtol=RTOL)
    fast = dsa(train, tp, target, xp, memory_mb=0.02)
    np.testing.assert_allclose(fast, dsa_plain(train, tp, target, xp), rtol=RTOL)


@pytest.mark.parametrize("relu", [False, True])
def test_dsa_all_reference_inputs_excluded_symmetric_search(relu, monkeypatch):
    """Every reference input scored without itself: the symmetric denominator search."""
    monkeypatch.setattr(DSA_MODULE, "SYMMETRIC_FRACTION", 0.0)
    train, tp, _, _, _ = _data(7, 240, 3, 6, 4, relu=relu)
    ex = np.arange(240)
    fast, info = dsa(train, tp, train, tp, exclude_self=ex, memory_mb=0.01, return_info=True)
    assert info["denominator_search"].startswith("all")
    np.testing.assert_allclose(fast, dsa_plain(train, tp, train, tp, exclude_self=ex), rtol=RTOL)


def test_dsa_symmetric_search_near_ties(monkeypatch):
    import guided_retraining.metrics.knn as common

    calls = []
    original = common.nearest
    monkeypatch.setattr(common, "nearest", lambda *a, **k: calls.append(1) or original(*a, **k))
    monkeypatch.setattr(DSA_MODULE, "SYMMETRIC_FRACTION", 0.0)
    rng = np.random.default_rng(5)
    directions = rng.normal(size=(200, 16))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    train = directions * (100 + rng.normal(size=(200, 1)) * 1e-5)
    train[:20] = rng.normal(size=(20, 16)) * 1e-6  # near the centre: all others almost equidistant
    tp = np.arange(200) % 3
    ex = np.arange(200)
    fast = dsa(train, tp, train, tp, exclude_self=ex)
    np.testing.assert_allclose(fast, dsa_plain(train, tp, train, tp, exclude_self=ex), rtol=RTOL)
    assert calls  # some rows were searched again


def test_dsa_near_ties_are_certified(monkeypatch):
    """References almost equidistant from the targets: float32 alone cannot rank them."""
    import guided_retraining.metrics.knn as common

    calls = []
    original = common._nearest_float64
    monkeypatch.setattr(common, "_nearest_float64", lambda *a: calls.append(len(a[3])) or original(*a))
    rng = np.random.default_rng(3)
    directions = rng.normal(size=(300, 16))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    train = directions * (100 + rng.normal(size=(300, 1)) * 1e-5)  # a sphere of radius 100
    tp = np.arange(300) % 2
    target = rng.normal(size=(50, 16)) * 1e-6  # its centre
    xp = rng.integers(0, 2, 50)
    np.testing.assert_allclose(dsa(train, tp, target, xp), dsa_plain(train, tp, target, xp), rtol=RTOL)
    assert sum(calls) > 0  # the float64 re-search ran


@pytest.mark.parametrize("shape", SHAPES[1:])
@pytest.mark.parametrize("exclude", [False, True])
@pytest.mark.parametrize("var_filter", ["union", "per_class"])
def test_lsa_matches_plain(shape, exclude, var_filter):
    train, tp, target, xp, ref_index = _data(sum(shape) + 1, *shape)
    train[tp == 1, 0] = 0.5  # a neuron without variance in class 1: the filters differ
    ex = ref_index if exclude else None
    fast, info = lsa(train, tp, target, xp, var_filter=var_filter, exclude_self=ex, memory_mb=0.02,
                     return_info=True)
    plain = lsa_plain(train, tp, target, xp, var_filter=var_filter, exclude_self=ex)
    np.testing.assert_allclose(fast, plain, rtol=RTOL, atol=0)
    assert info["fallbacks"] == []
    kept = info["neurons_kept"]
    assert (0 in kept["1"]) is False and (0 in kept["0"]) is (var_filter == "per_class")


@pytest.mark.parametrize("exclude", [False, True])
@pytest.mark.parametrize("underflow", [False, True])
def test_lsa_symmetric_member_sums_match_plain(exclude, underflow, monkeypatch):
    """All reference inputs scored (the study): member-member kernel sums, or their fallback."""
    if underflow:
        monkeypatch.setattr(LSA_MODULE, "UNDERFLOW", 1e300)  # every sum "underflows"
    train, tp, target, xp, _ = _data(11, 300, 60, 8, 3)
    target = np.concatenate([train, target])
    xp = np.concatenate([tp, xp])
    ex = np.r_[np.arange(300), np.full(60, -1)] if exclude else None
    if exclude:
        ex[5] = 7  # not its own row: scored the ordinary way
    fast, info = lsa(train, tp, target, xp, exclude_self=ex, memory_mb=0.05, return_info=True)
    assert info["symmetric_kernel_sums"] == ["0", "1", "2"]
    np.testing.assert_allclose(fast, lsa_plain(train, tp, target, xp, exclude_self=ex), rtol=RTOL)


def test_member_kernel_sums_brute_force():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(150, 5))
    brute = np.exp(-0.5 * ((z[:, None] - z[None]) ** 2).sum(-1))
    np.fill_diagonal(brute, 0)
    got = LSA_MODULE._member_kernel_sums({"white": z}, 0.01, "cpu")
    np.testing.assert_allclose(got, brute.sum(1), rtol=1e-12)


def _finite_lsa(train, tp, target, xp, **kw):
    scores, info = lsa(train, tp, target, xp, return_info=True, log=logging.getLogger("test"), **kw)
    assert np.all(np.isfinite(scores)), scores
    json.loads(json.dumps(info))
    return scores, info


def test_lsa_robust_zero_variance_in_one_class():
    train, tp, target, xp, _ = _data(1, 200, 40, 5, 2)
    train[tp == 0] = train[tp == 0][0]  # class 0: all traces equal -> every neuron filtered
    scores, info = _finite_lsa(train, tp, target, xp)
    assert info["var_filter_used"] == "per_class" and info["fallbacks"]


def test_lsa_robust_fewer_inputs_than_neurons_singleton_and_absent_class():
    rng = np.random.default_rng(2)
    d = 10
    train = rng.normal(size=(60, d))
    tp = np.r_[np.zeros(52, int), np.ones(7, int), [2]]  # class 1: 7 < 10 inputs; class 2: one input
    target = rng.normal(size=(20, d))
    xp = np.r_[np.zeros(5, int), np.ones(5, int), np.full(5, 2), np.full(5, 3)]  # class 3: no reference
    scores, info = _finite_lsa(train, tp, target, xp)
    assert info["kdes"]["1"]["ridge"] > 0
    assert info["kdes"]["2"]["covariance_source"] == "all traces"
    assert "all" in info["kdes"]
    # the singleton class with its only trace excluded falls back to all traces
    ex = np.full(20, -1)
    ex[10] = 59
    target[10] = train[59]
    scores2, _ = _finite_lsa(train, tp, target, xp, exclude_self=ex)
    assert np.isfinite(scores2[10])


def test_lsa_robust_identical_and_collinear_traces():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(100, 1))
    train = np.hstack([a, 2 * a, rng.normal(size=(100, 2))])  # collinear neurons -> singular
    tp = np.arange(100) % 2
    scores, info = _finite_lsa(train, tp, train[:10], tp[:10])
    assert any("ridge" in f for f in info["fallbacks"])
    _finite_lsa(np.zeros((10, 3)), np.arange(10) % 2, np.ones((4, 3)), np.array([0, 1, 0, 1]))


def test_progress_lines_with_a_logger(caplog):
    train, tp, target, xp, ref_index = _data(13, 200, 60, 4, 3)
    log = logging.getLogger("test.progress")
    with caplog.at_level(logging.INFO, logger="test.progress"):
        dsa(train, tp, target, xp, log=log)
        lsa(train, tp, target, xp, log=log)
    text = caplog.text
    assert "dsa nearest neighbours: " in text and "(100%)" in text and "ETA" in text
    assert "lsa: 60/60 (100%)" in text
