"""Hand-checkable values of every metric, and the dispatcher's checks."""

import json
import logging
import math

import numpy as np
import pytest

from guided_retraining.errors import ConfigError, DataError
from guided_retraining.metrics import (METRIC_KINDS, METRIC_OPTIONS, MODEL_METRICS, deepgini, dsa, kmnc,
                                       least_confidence, lsa, margin, mc_dropout_variation_ratio, mdsa,
                                       nbc, nc, random_scores, score, softmax_entropy)


# ---- uncertainty -------------------------------------------------------------------------

def test_deepgini_hand_values():
    out = deepgini(np.array([[0.5, 0.5], [1.0, 0.0]]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.5, 0.0])
    np.testing.assert_allclose(deepgini(np.full((1, 4), 0.25)), [0.75])


def test_softmax_entropy_bits():
    np.testing.assert_allclose(softmax_entropy(np.full((1, 4), 0.25)), [2.0])
    np.testing.assert_allclose(softmax_entropy(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])), [0.0, 1.0])
    assert not np.signbit(softmax_entropy(np.array([[1.0, 0.0]]))[0])


def test_margin_and_least_confidence():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6]])
    np.testing.assert_allclose(margin(p), [0.5, 0.0, 0.3])
    np.testing.assert_allclose(least_confidence(p), [0.3, 0.6, 0.4])


def test_random_scores_seeded():
    a = random_scores(5, 3)
    np.testing.assert_array_equal(a, np.random.default_rng(3).random(5))
    assert a.dtype == np.float64
    assert not np.array_equal(a, random_scores(5, 4))


# ---- coverage ----------------------------------------------------------------------------

def test_nc_input_scaling_hand_example():
    # input 0: [0, 1, 2, 10] -> scaled [0, .1, .2, 1] -> only 1.0 > 0.2 (0.2 is not > 0.2) -> 1/4
    # input 1: [5, 5, 5, 5] -> constant -> nothing covered
    # input 2: [0, 3, 4, 4] -> [0, .75, 1, 1] -> 3/4
    a = np.array([[0, 1, 2, 10], [5, 5, 5, 5], [0, 3, 4, 4]], dtype=np.float32)
    np.testing.assert_allclose(nc([a]), [0.25, 0.0, 0.75])
    np.testing.assert_allclose(nc([a], threshold=0.05), [0.75, 0.0, 0.75])  # .1, .2, 1


def test_nc_two_layers_scaled_per_layer():
    l1 = np.array([[0.0, 1.0]])          # scaled [0, 1] -> 1 covered
    l2 = np.array([[0.0, 10.0, 5.0]])    # scaled [0, 1, .5] -> 2 covered
    np.testing.assert_allclose(nc([l1, l2]), [3 / 5])


def test_nc_train_scaling():
    a = np.array([[1.0, 5.0, 2.0], [0.0, 1.0, 3.0]])
    lo, hi = np.array([0.0, 0.0, 2.0]), np.array([10.0, 10.0, 2.0])
    # input 0: [.1, .5, flat & a > lo? no] -> 1/3; input 1: [0, .1, flat & 3 > 2] -> 1/3
    np.testing.assert_allclose(nc([a], scaling="train", train_ranges=(lo, hi)), [1 / 3, 1 / 3])
    with pytest.raises(ConfigError):
        nc([a], scaling="train")
    with pytest.raises(ConfigError):
        nc([a], scaling="nope")


def test_kmnc_and_nbc_tiny_ranges():
    train = np.array([[0.0, 0.0], [1.0, 2.0]])          # ranges [0, 1], [0, 2]
    target = np.array([[0.5, 1.0], [-1.0, 3.0], [1.0, 2.5], [0.0, 0.0]])
    np.testing.assert_allclose(kmnc(train, target, k=10), [2 / 20, 0.0, 1 / 20, 2 / 20])
    np.testing.assert_allclose(nbc(train, target), [0.0, 2 / 4, 1 / 4, 0.0])


# ---- surprise adequacy ---------------------------------------------------------------------

def test_dsa_hand_example():
    # class 0 traces (0,0) and (4,0); class 1 trace (0,3)
    train = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]])
    pred = np.array([0, 0, 1])
    target = np.array([[1.0, 0.0], [0.0, 5.0], [3.0, 0.0]])
    tpred = np.array([0, 1, 0])
    # t0: x_a=(0,0) dist 1; x_b=(0,3) dist 3 -> 1/3
    # t1: x_a=(0,3) dist 2; nearest class-0 to (0,3) is (0,0) dist 3 -> 2/3
    # t2: x_a=(4,0) dist 1; nearest class-1 to (4,0) is (0,3) dist 5 -> 1/5
    np.testing.assert_allclose(dsa(train, pred, target, tpred), [1 / 3, 2 / 3, 1 / 5], rtol=1e-12)


def test_dsa_reference_inputs_score_zero_unless_excluded():
    train = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]])
    pred = np.array([0, 0, 1])
    np.testing.assert_array_equal(dsa(train, pred, train[:2], pred[:2]), [0.0, 0.0])
    # without itself, (0,0)'s x_a is (1,0) at 1, whose nearest class-1 trace is at sqrt(10)
    out = dsa(train, pred, train[:2], pred[:2], exclude_self=np.array([0, 1]))
    np.testing.assert_allclose(out, [1 / math.sqrt(10), 1 / 3], rtol=1e-12)


def test_dsa_class_without_reference_is_inf_and_one_class_fails():
    train = np.array([[0.0], [1.0]])
    out, info = dsa(train, np.array([0, 1]), np.array([[0.5]]), np.array([2]), return_info=True)
    assert out[0] == np.inf and info["targets_without_reference_class"] == 1
    json.dumps(info)
    with pytest.raises(DataError):
        dsa(train, np.array([0, 0]), train, np.array([0, 0]))


def test_lsa_hand_example_1d():
    # one neuron, class 0 = {-1, 1}: sample var 2, factor 2^(-1/5), kernel var h2 = 2 * 2^(-2/5)
    train = np.array([[-1.0], [1.0], [10.0], [12.0]])
    pred = np.array([0, 0, 1, 1])
    h2 = 2 * 2 ** (-2 / 5)
    dens = 0.5 * sum(math.exp(-0.5 * (0 - m) ** 2 / h2) / math.sqrt(2 * math.pi * h2) for m in (-1, 1))
    out, info = lsa(train, pred, np.array([[0.0]]), np.array([0]), return_info=True)
    assert out[0] == pytest.approx(-math.log(dens), rel=1e-12)
    assert info["kdes"]["0"]["bandwidth"] == pytest.approx(2 ** (-1 / 5))
    json.dumps(info)


def test_mdsa_hand_example():
    # class 0 traces: (-1,0),(1,0),(0,-2),(0,2): mean 0, cov diag(2/3, 8/3)
    train = np.array([[-1.0, 0], [1, 0], [0, -2], [0, 2], [9, 9], [11, 11]])
    pred = np.array([0, 0, 0, 0, 1, 1])
    out = mdsa(train, pred, np.array([[1.0, 2.0]]), np.array([0]))
    assert out[0] == pytest.approx(math.sqrt(1 / (2 / 3) + 4 / (8 / 3)), rel=1e-12)
    # class 1 is rank-1: distance within its span (pseudo-inverse), orthogonal part ignored
    out1 = mdsa(train, pred, np.array([[12.0, 12.0], [11.0, 9.0]]), np.array([1, 1]))
    # var along (1,1)/sqrt2: points at +-sqrt2 -> sample var 4; (12,12) is 2 sqrt2 away -> sqrt(8/4)
    np.testing.assert_allclose(out1, [math.sqrt(2), 0.0], atol=1e-12)


# ---- MC dropout --------------------------------------------------------------------------

def _net(dropout: bool):
    import torch
    from torch import nn

    from guided_retraining.models.layers import SeededDropout

    torch_gen = torch.Generator().manual_seed(0)
    lin1, lin2 = nn.Linear(4, 32), nn.Linear(32, 3)
    with torch.no_grad():
        for p in (*lin1.parameters(), *lin2.parameters()):
            p.copy_(torch.randn(p.shape, generator=torch_gen))
    layers = [lin1, nn.ReLU()] + ([SeededDropout(0.5)] if dropout else []) + [lin2]
    return nn.Sequential(*layers)


def test_mc_dropout_without_dropout_is_zero():
    import torch

    x = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    model = _net(dropout=False)
    state = torch.get_rng_state()
    out = mc_dropout_variation_ratio(model, x, n_samples=5, batch_size=4)
    np.testing.assert_array_equal(out, np.zeros(10))
    assert torch.equal(state, torch.get_rng_state())


def test_mc_dropout_seeded_and_restores_modes():
    import torch

    x = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    model = _net(dropout=True).eval()
    state = torch.get_rng_state()
    a = mc_dropout_variation_ratio(model, x, n_samples=10, seed=3)
    b = mc_dropout_variation_ratio(model, x, n_samples=10, seed=3)
    np.testing.assert_array_equal(a, b)
    assert torch.equal(state, torch.get_rng_state())
    assert not any(m.training for m in model.modules())
    assert np.all((a >= 0) & (a < 1)) and a.max() > 0
    np.testing.assert_allclose(a * 10, np.round(a * 10))  # multiples of 1/n_samples


# ---- dispatcher --------------------------------------------------------------------------

def _arrays(rng, n, classes=3, units=6):
    ats = rng.normal(size=(n, units)).astype(np.float32)
    probs = rng.dirichlet(np.ones(classes), size=n).astype(np.float32)
    pred = probs.argmax(1).astype(np.int64)
    return {"probs": probs, "pred": pred, "label": (pred + (rng.random(n) < 0.1)) % classes, "layer:dense1": ats,
            "layer:dense2": np.maximum(ats[:, :4], 0)}


def test_score_every_kind_json_info():
    rng = np.random.default_rng(0)
    ref, tgt = _arrays(rng, 120), _arrays(rng, 40)
    tgt["ref_index"] = np.full(40, -1, dtype=np.int64)
    for kind in METRIC_KINDS:
        if kind in MODEL_METRICS:
            with pytest.raises(ConfigError):
                score(kind, tgt, ref, {})
            continue
        opts = {"layers": ["dense1"]} if "layers" in METRIC_OPTIONS[kind] else {}
        if kind in ("lsa", "dsa", "datis"):
            opts["exclude_self"] = True
        scores, info = score(kind, tgt, ref, opts, seed=1, log=logging.getLogger("test"))
        assert scores.shape == (40,) and scores.dtype == np.float64, kind
        assert np.all(np.isfinite(scores)), kind
        json.loads(json.dumps(info))
        assert info["kind"] == kind


def test_score_values_match_functions():
    rng = np.random.default_rng(1)
    ref, tgt = _arrays(rng, 100), _arrays(rng, 30)
    s, _ = score("margin", tgt, ref, {})
    np.testing.assert_allclose(s, 1 - margin(tgt["probs"]))
    s, _ = score("random", tgt, ref, {}, seed=7)
    np.testing.assert_array_equal(s, random_scores(30, 7))
    s, _ = score("nc", tgt, ref, {"layers": ["dense1", "dense2"]})
    np.testing.assert_allclose(s, nc([tgt["layer:dense1"], tgt["layer:dense2"]]))
    s, _ = score("dsa", tgt, ref, {"layers": ["dense1"]})
    np.testing.assert_allclose(s, dsa(ref["layer:dense1"], ref["pred"], tgt["layer:dense1"], tgt["pred"]))
    s, _ = score("nc", tgt, ref, {"layers": "dense1", "scaling": "train"})
    r = ref["layer:dense1"]
    np.testing.assert_allclose(s, nc([tgt["layer:dense1"]], scaling="train", train_ranges=(r.min(0), r.max(0))))


def test_score_rejects_unknown_kind_option_and_missing_layers():
    rng = np.random.default_rng(2)
    ref, tgt = _arrays(rng, 30), _arrays(rng, 10)
    with pytest.raises(ConfigError, match="nope"):
        score("nope", tgt, ref, {})
    with pytest.raises(ConfigError, match="'treshold' for nc; allowed: kind, layers, memory_mb, scaling, threshold"):
        score("nc", tgt, ref, {"layers": ["dense1"], "treshold": 0.3})
    with pytest.raises(ConfigError, match="layers"):
        score("lsa", tgt, ref, {})
    with pytest.raises(ConfigError, match="exclude_self"):
        score("dsa", tgt, ref, {"layers": ["dense1"], "exclude_self": "yes"})
    with pytest.raises(DataError, match="ref_index"):
        score("dsa", tgt, ref, {"layers": ["dense1"], "exclude_self": True})
    with pytest.raises(DataError, match="layer:dense9"):
        score("dsa", tgt, ref, {"layers": ["dense9"]})
