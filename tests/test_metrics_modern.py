"""DATIS, NNS, MCP, MLSA and Weiss & Tonella's MDSA: against plain per-input implementations of
their published definitions, hand-checkable cases, and the kNN engine they share with DSA."""

import math

import numpy as np
import pytest

from guided_retraining.metrics import datis, mcp_order, mdsa, mlsa, nns, score
from guided_retraining.metrics.knn import knn
from guided_retraining.metrics.reference import (datis_plain, mcp_plain_select, mdsa_weiss_tonella_plain, mlsa_plain,
                                                 nns_plain)

TOL = 1e-9


def _traces(seed, n_ref=300, n_t=120, d=8, classes=4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, d))
    tp = np.arange(n_ref) % classes
    train = centers[tp] + rng.normal(size=(n_ref, d))
    xp = rng.integers(0, classes, n_t)
    target = centers[xp] + 1.5 * rng.normal(size=(n_t, d))
    labels = np.where(rng.random(n_ref) < 0.1, (tp + 1) % classes, tp)
    return train, tp, labels, target, xp


# ---- the engine ------------------------------------------------------------------------

@pytest.mark.parametrize("remeasure", ["difference", "product"])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_knn_matches_brute_force(k, remeasure):
    rng = np.random.default_rng(k)
    refs, queries = rng.normal(size=(500, 12)), rng.normal(size=(90, 12))
    exclude = np.where(np.arange(90) % 3 == 0, np.arange(90), -1)
    idx, dist = knn(queries, refs, k, exclude=exclude, memory_mb=0.05, remeasure=remeasure)  # many chunks
    d = np.linalg.norm(queries[:, None] - refs[None], axis=2)
    d[np.arange(90)[exclude >= 0], exclude[exclude >= 0]] = np.inf
    want = np.argsort(d, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(idx, want)
    np.testing.assert_allclose(dist, np.take_along_axis(d, want, 1), rtol=1e-12)


def test_knn_near_ties_and_too_few_references():
    rng = np.random.default_rng(0)
    directions = rng.normal(size=(300, 16))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    refs = directions * (100 + rng.normal(size=(300, 1)) * 1e-5)  # a sphere: float32 cannot rank
    queries = rng.normal(size=(20, 16)) * 1e-6
    idx, dist = knn(queries, refs, 5)
    d = np.linalg.norm(queries[:, None] - refs[None], axis=2)
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :5], rtol=1e-12)
    idx, dist = knn(queries[:2], refs[:3], 5)
    assert (idx[:, 3:] == -1).all() and np.isinf(dist[:, 3:]).all() and (idx[:, :3] >= 0).all()


def _brute(queries, refs, exclude, k):
    d = np.linalg.norm(queries[:, None] - refs[None], axis=2)
    if exclude is not None:
        d[np.arange(len(queries))[exclude >= 0], exclude[exclude >= 0]] = np.inf
    want = np.argsort(d, axis=1, kind="stable")[:, :k]
    return want, np.take_along_axis(d, want, 1)


def _layouts(seed):
    """Clustered references and queries of the three kinds the kernels treat apart: the
    references themselves (NNS), references then new rows (DATIS: Train* against Train, with a
    repeated row), and queries that share no row with the references."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(5, 9))
    refs = centres[np.arange(700) % 5] + rng.normal(size=(700, 9))
    new = centres[rng.integers(0, 5, 260)] + 1.3 * rng.normal(size=(260, 9))
    refs[650] = refs[3]  # a repeated row: the i-th copy among the queries pairs with the i-th among refs
    yield "itself", refs, refs, np.arange(700)
    extended = np.concatenate([refs, new])
    yield "refs then new rows", extended, refs, np.where(np.arange(960) % 4 == 0, np.arange(960) % 700, -1)
    yield "no shared rows", new, refs, None


@pytest.mark.parametrize("k", [1, 6, 40])
def test_knn_kernels_match_brute_force_on_every_layout(k):
    # memory_mb 0.02: tiles of about 50 rows, so every layout has many tiles, a triangle and its diagonal
    for name, queries, refs, exclude in _layouts(k):
        idx, dist = knn(queries, refs, k, exclude=exclude, memory_mb=0.02)
        want, want_d = _brute(queries, refs, exclude, k)
        np.testing.assert_array_equal(idx, want, err_msg=name)
        np.testing.assert_allclose(dist, want_d, rtol=1e-12, err_msg=name)


def test_knn_kernels_agree_with_the_torch_chunks_and_any_thread_count():
    import torch

    name, queries, refs, exclude = list(_layouts(11))[1]
    want = knn(queries, refs, 9, exclude=exclude, memory_mb=0.02, engine="torch")  # the GPU's code path
    before = torch.get_num_threads()
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            got = knn(queries, refs, 9, exclude=exclude, memory_mb=0.02)
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    finally:
        torch.set_num_threads(before)


def test_knn_kernels_exact_ties_and_progress():
    from guided_retraining.progress import Progress

    # points of a small integer grid: many exactly equal distances, also in float32
    rng = np.random.default_rng(2)
    refs = rng.integers(0, 3, size=(600, 4)).astype(float)
    queries = np.concatenate([refs[:300], rng.integers(0, 3, size=(50, 4)).astype(float)])
    progress = Progress(len(queries), "knn")
    idx, dist = knn(queries, refs, 12, memory_mb=0.02, progress=progress)
    _, want_d = _brute(queries, refs, None, 12)
    np.testing.assert_allclose(dist, want_d, rtol=0, atol=1e-12)  # the k smallest distances, ties and all
    np.testing.assert_allclose(np.linalg.norm(queries[:, None] - refs[idx], axis=2), dist, atol=1e-12)
    assert all(len(set(row)) == 12 for row in idx)  # no reference twice
    assert progress.done == progress.total


def test_identical_rows_pairs_copies_one_to_one():
    from guided_retraining.metrics._knn_cpu import identical_rows

    a, b, c, d = [1.0, 2.0], [0.0, -0.0], [5.0, 5.0], [7.0, 1.0]
    queries = np.array([a, b, a, c])
    refs = np.array([[0.0, 0.0], a, a, d, a])  # b matches [0, 0] (the sign of zero is ignored)
    qi, ri = identical_rows(queries, refs)
    assert list(zip(qi.tolist(), ri.tolist())) == [(1, 0), (0, 1), (2, 2)]
    same = np.arange(5)
    assert [x.tolist() for x in identical_rows(refs, refs)] == [same.tolist(), same.tolist()]


# ---- DATIS -------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 7, 100])
def test_datis_matches_plain(k):
    train, _, labels, target, xp = _traces(k)
    fast = datis(train, labels, target, xp, k=k, memory_mb=0.05)
    np.testing.assert_allclose(fast, datis_plain(train, labels, target, xp, k=k), rtol=TOL, atol=0)


def test_datis_hand_example():
    # normalised training features (1,0) label 0, (0,1) label 1, (-1,0) label 1; target (2,0) -> (1,0)
    # k=2: neighbours at d^2 = 0 (label 0, weight 1) and 2 (label 1, weight e^-2), T = 1
    train, labels = np.array([[3.0, 0], [0, 0.5], [-2, 0]]), np.array([0, 1, 1])
    target = np.array([[2.0, 0], [2.0, 0]])
    out = datis(train, labels, target, np.array([0, 1]), k=2, temperature=1.0)
    # predicted 0 = q's top class: alt = second (1): q1/q0 = e^-2; predicted 1: alt = top (0): q0/q1 = e^2
    np.testing.assert_allclose(out, [math.exp(-2), math.exp(2)], rtol=1e-12)


# ---- NNS ---------------------------------------------------------------------------------

def test_nns_matches_plain():
    rng = np.random.default_rng(3)
    ats = rng.normal(size=(150, 6))
    probs = rng.dirichlet(np.ones(5), size=150)
    for k, alpha in [(1, 0.5), (10, 0.5), (25, 0.2)]:
        np.testing.assert_allclose(nns(ats, probs, k=k, alpha=alpha, memory_mb=0.05), nns_plain(ats, probs, k, alpha),
                                   rtol=TOL, atol=0)


def test_nns_hand_example():
    # inputs at 0, 1, 3: nearest other input of 0 is 1, of 1 is 0, of 3 is 1
    ats = np.array([[0.0], [1.0], [3.0]])
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    # smoothed (alpha 0.5): [.5, .5], [.5, .5], [.25, .75] -> gini .5, .5, 1 - (1/16 + 9/16) = .375
    np.testing.assert_allclose(nns(ats, probs, k=1), [0.5, 0.5, 0.375], rtol=1e-12)
    # inverse-distance weights with k=2 for input 2: neighbours 1 (d 2) and 0 (d 3): w = 3/5, 2/5
    out = nns(ats, probs, k=2, weighting="inverse_distance", uncertainty="least_confidence")
    smooth = 0.5 * probs[2] + 0.5 * (0.6 * probs[1] + 0.4 * probs[0])
    assert out[2] == pytest.approx(1 - smooth.max(), rel=1e-6)


# ---- MCP ---------------------------------------------------------------------------------

MCP_PROBS = np.array([
    [0.6, 0.3, 0.1],     # 0: area (0,1), priority 0.5
    [0.5, 0.45, 0.05],   # 1: (0,1), 0.9
    [0.2, 0.7, 0.1],     # 2: (1,0), 0.2857
    [0.1, 0.1, 0.8],     # 3: (2,0) (top-2 tie: lower class), 0.125
    [0.4, 0.2, 0.4],     # 4: (0,2) (top-1 tie: lower class), 1.0
    [0.34, 0.33, 0.33],  # 5: (0,1), 0.9706
    [0.25, 0.7, 0.05],   # 6: (1,0), 0.357
])


def test_mcp_round_robin_hand_example():
    # round 1: each area's best, by priority: 4 (1.0), 5 (.97), 6 (.36), 3 (.125); round 2: 1 (.9), 2 (.29); then 0
    np.testing.assert_array_equal(mcp_order(MCP_PROBS), [4, 5, 6, 3, 1, 2, 0])
    scores, info = score("mcp", {"probs": MCP_PROBS}, {}, {})
    np.testing.assert_array_equal(scores, [1, 3, 2, 4, 7, 6, 5])  # 7 - position: ranks
    assert info["scores_are_ranks"] is True


def test_mcp_prefixes_are_the_authors_selections():
    probs = np.random.default_rng(4).dirichlet(np.ones(4) * 0.5, size=200)
    order = mcp_order(probs)
    for budget in (1, 5, 11, 12, 30, 77, 200):
        assert sorted(order[:budget]) == sorted(mcp_plain_select(probs, budget)), budget


# ---- MLSA and MDSA -----------------------------------------------------------------------

@pytest.mark.parametrize("n_components", [1, 3])
def test_mlsa_matches_plain(n_components):
    train, tp, _, target, xp = _traces(5, n_ref=400, d=4)
    fast = mlsa(train, tp, target, xp, n_components=n_components, seed=7)
    np.testing.assert_allclose(fast, mlsa_plain(train, tp, target, xp, n_components, seed=7), rtol=TOL, atol=0)


def test_mlsa_hand_example_one_component():
    # class 0 = {-1, 1}: mean 0, ML variance 1 (+ reg_covar 1e-6); MLSA(0) = log(2 pi (1 + 1e-6)) / 2
    train = np.array([[-1.0], [1.0], [10.0], [12.0]])
    out = mlsa(train, np.array([0, 0, 1, 1]), np.array([[0.0], [13.0]]), np.array([0, 1]), n_components=1)
    np.testing.assert_allclose(out, [0.5 * math.log(2 * math.pi * (1 + 1e-6)),
                                     0.5 * math.log(2 * math.pi * (1 + 1e-6)) + 4 / (2 * (1 + 1e-6))], rtol=1e-12)


def test_mdsa_weiss_tonella_matches_plain_and_hand_example():
    train, tp, _, target, xp = _traces(6)
    np.testing.assert_allclose(mdsa(train, tp, target, xp, variant="weiss_tonella"),
                               mdsa_weiss_tonella_plain(train, tp, target, xp), rtol=TOL, atol=0)
    # class 0: (-1,0),(1,0),(0,-2),(0,2): ML covariance diag(1/2, 2); (1,2): 1/(1/2) + 4/2 = 4 (squared)
    train = np.array([[-1.0, 0], [1, 0], [0, -2], [0, 2], [9, 9], [11, 11]])
    pred = np.array([0, 0, 0, 0, 1, 1])
    assert mdsa(train, pred, np.array([[1.0, 2.0]]), np.array([0]), variant="weiss_tonella")[0] == pytest.approx(4.0)


def test_prepare_readies_the_kernels_once_per_process():
    from guided_retraining.metrics import prepare

    assert prepare("deepgini") == 0.0  # no compiled kernels
    prepare("nns")  # loads them from numba's cache, or compiles them
    assert prepare("datis") < 0.05 and prepare("dsa") < 0.05  # the same kernels: ready already

