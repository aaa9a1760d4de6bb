"""Attacks: norm bounds, loss increase, seeding, the mix, the L1 step by hand, torchattacks parity."""

import numpy as np
import pytest
import torch
from torch import nn

from guided_retraining.attacks import (ATTACKS, L1BIM, PGD, PGDL2, DeepFool, Mix, filter_successful, make_attack)
from guided_retraining.errors import ConfigError
from guided_retraining.models import build_model
from guided_retraining.training import TrainSettings, train

EPS = 0.05
torch.set_num_threads(1)  # tiny models: intra-op threads only add overhead on shared cores


@pytest.fixture(scope="module")
def digits(digits_data):
    """A digits_cnn trained briefly on sklearn digits, and 120 held-out inputs."""
    x_train, y_train, x_test, y_test = digits_data
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    train(model, x_train, y_train, TrainSettings(epochs=4, batch_size=64), seed=1)
    return model, x_test[:120], y_test[:120]


def mean_loss(model, x, y):
    with torch.no_grad():
        return float(nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y)))


def test_registry_and_settings_errors():
    assert set(ATTACKS) == {"fgsm", "bim", "pgd", "pgdl2", "deepfool", "cw", "l1bim", "l2bim", "mix", "dgn"}
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) bogus for attack 'pgd'; allowed: eps, alpha"):
        make_attack("pgd", bogus=1)
    with pytest.raises(ConfigError, match="unknown 'nope'"):
        make_attack("nope")
    with pytest.raises(ConfigError, match="eps must be > 0"):
        make_attack("bim", eps=0)
    assert make_attack("l1bim").alpha == pytest.approx(0.2 * EPS) and make_attack("l1bim").steps == 10
    assert make_attack("pgd", seed=7).settings["seed"] == 7
    assert "seed" not in make_attack("fgsm", seed=7).settings  # seed ignored by deterministic attacks


NORM_BOUND = {"fgsm": "linf", "bim": "linf", "pgd": "linf", "pgdl2": "l2", "l2bim": "l2", "l1bim": "l1", "mix": "linf"}


@pytest.mark.parametrize("kind", sorted(NORM_BOUND))
def test_attack_raises_loss_within_norm_bound(digits, kind):
    model, x, y = digits
    result = make_attack(kind, seed=0).run(model, x, y, batch_size=64)
    assert result.x_adv.shape == x.shape and result.x_adv.dtype == np.float32
    assert result.x_adv.min() >= 0.0 and result.x_adv.max() <= 1.0
    assert mean_loss(model, result.x_adv, y) > mean_loss(model, x, y)
    norm = getattr(result, NORM_BOUND[kind])
    assert norm.max() <= EPS * (1 + 1e-5) + 1e-7
    s = result.summary()
    assert s["n"] == len(x) and 0.0 <= s["success_rate"] <= 1.0
    assert s[f"{NORM_BOUND[kind]}_max"] == pytest.approx(norm.max())
    assert {"l1_mean", "l1_max", "l2_mean", "linf_mean"} <= set(s)


@pytest.mark.parametrize("kind,settings", [("cw", {"c": 10.0, "steps": 100, "lr": 0.05}), ("deepfool", {})])
def test_minimal_norm_attacks_succeed_on_most(digits, kind, settings):
    model, x, y = digits
    result = make_attack(kind, **settings).run(model, x[:60], y[:60])
    assert result.x_adv.min() >= 0.0 and result.x_adv.max() <= 1.0
    assert result.success.mean() > 0.6
    assert mean_loss(model, result.x_adv, y[:60]) > mean_loss(model, x[:60], y[:60])


def test_deepfool_batched_matches_torchattacks(digits):
    model, x, y = digits
    xt, yt = torch.from_numpy(x[:6]), torch.from_numpy(y[:6])
    ours = DeepFool(steps=20).perturb(model, xt, yt)
    theirs = DeepFool(steps=20, batched=False).perturb(model, xt, yt)
    assert torch.allclose(ours, theirs, atol=1e-5)


@pytest.mark.parametrize("cls,ta", [(PGD, "PGD"), (PGDL2, "PGDL2")])
def test_pgd_without_random_start_equals_torchattacks(digits, cls, ta):
    import torchattacks

    model, x, y = digits
    xt, yt = torch.from_numpy(x[:32]), torch.from_numpy(y[:32])
    ours = cls(eps=0.1, alpha=0.02, steps=5, random_start=False).perturb(model, xt, yt)
    theirs = getattr(torchattacks, ta)(model, eps=0.1, alpha=0.02, steps=5, random_start=False)(xt, yt)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("kind", ["pgd", "pgdl2"])
def test_random_start_is_seeded_and_leaves_global_rng_alone(digits, kind):
    model, x, y = digits
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = make_attack(kind, seed=5).run(model, x, y, batch_size=50).x_adv
    b = make_attack(kind, seed=5).run(model, x, y, batch_size=50).x_adv
    c = make_attack(kind, seed=6).run(model, x, y, batch_size=50).x_adv
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    # perturb alone (no generator given) is seeded too
    xt, yt = torch.from_numpy(x[:8]), torch.from_numpy(y[:8])
    atk = make_attack(kind, seed=5)
    assert torch.equal(atk.perturb(model, xt, yt), atk.perturb(model, xt, yt))


def test_l1bim_single_step_by_hand():
    lin = nn.Linear(4, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0, 0.5, 0.0], [-1.0, 1.0, 3.0, -0.5]]))
        lin.bias.copy_(torch.tensor([0.1, -0.2]))
    model = nn.Sequential(nn.Flatten(), lin)
    x = np.array([[[[0.2, 0.5], [0.9, 0.0]]]], dtype=np.float32)
    y = np.array([0])
    W, b = lin.weight.detach().numpy().astype(np.float64), lin.bias.detach().numpy().astype(np.float64)
    z = W @ x.reshape(4) + b
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    g = W.T @ (p - np.eye(2)[0])  # grad of CE wrt x
    for eps, alpha in [(0.5, 0.2), (0.1, 0.3)]:  # projection inactive, then active
        step = x.reshape(4) + alpha * g / np.abs(g).sum()
        delta = step - x.reshape(4)
        delta *= min(1.0, eps / np.abs(delta).sum())
        expected = np.clip(x.reshape(4) + delta, 0, 1).reshape(x.shape)
        got = L1BIM(eps=eps, alpha=alpha, steps=1).run(model, x, y)
        np.testing.assert_allclose(got.x_adv, expected, atol=1e-6)
        assert got.l1[0] <= eps + 1e-6
    # pixel 4 is at 0 and its gradient pushes it down: clipping keeps it at 0
    assert g[3] < 0 and got.x_adv.reshape(4)[3] == 0.0


def test_mix_splits_into_seeded_thirds_and_applies_each_attack(digits):
    model, x, y = digits
    for n in (9, 10, 11, 0):
        kinds = Mix(seed=3).assign(n)
        sizes = [int((kinds == k).sum()) for k in ("l1bim", "l2bim", "fgsm")]
        assert sum(sizes) == n and (max(sizes) - min(sizes) <= 1)
    assert np.array_equal(Mix(seed=3).assign(100), Mix(seed=3).assign(100))
    assert not np.array_equal(Mix(seed=3).assign(100), Mix(seed=4).assign(100))
    mix = make_attack("mix", seed=3)
    result = mix.run(model, x, y, batch_size=32)
    again = make_attack("mix", seed=3).run(model, x, y, batch_size=32)
    assert np.array_equal(result.x_adv, again.x_adv) and np.array_equal(result.kinds, again.kinds)
    for kind in ("l1bim", "l2bim", "fgsm"):
        idx = np.flatnonzero(result.kinds == kind)
        alone = make_attack(kind, eps=EPS).run(model, x[idx], y[idx], batch_size=32)
        np.testing.assert_array_equal(result.x_adv[idx], alone.x_adv)
    assert result.linf[result.kinds == "fgsm"].max() == pytest.approx(EPS, abs=1e-6)
    assert result.l1[result.kinds == "l1bim"].max() <= EPS + 1e-6
    assert result.l2[result.kinds == "l2bim"].max() <= EPS + 1e-6
    by_kind = result.summary()["by_kind"]
    assert sorted(by_kind) == ["fgsm", "l1bim", "l2bim"] and sum(v["n"] for v in by_kind.values()) == len(x)


def test_filter_successful(digits):
    model, x, y = digits
    result = make_attack("fgsm", eps=0.2).run(model, x, y)
    x_ok, y_ok, idx = filter_successful(result, x, y)
    assert len(idx) == int(result.success.sum()) > 0 and idx.dtype == np.int64
    assert np.array_equal(x_ok, result.x_adv[result.success]) and np.array_equal(y_ok, y[result.success])
    with torch.no_grad():
        assert (model(torch.from_numpy(x_ok)).argmax(1).numpy() != y_ok).all()
    with pytest.raises(ValueError):
        filter_successful(result, x[:5], y[:5])


def test_pgd_restarts_keep_the_first_run_that_fools_and_retry_the_others(digits):
    model, x, y = digits
    settings = dict(eps=0.03, alpha=0.01, steps=3, seed=7)  # weak: some inputs survive the first run
    one = make_attack("pgd", **settings).run(model, x, y, batch_size=200)
    five = make_attack("pgd", restarts=5, **settings).run(model, x, y, batch_size=200)
    assert 0 < one.success.sum() < len(x)
    # the first run draws the same start: inputs it fooled are kept as they are
    assert np.array_equal(five.x_adv[one.success], one.x_adv[one.success])
    assert five.success.sum() > one.success.sum() and five.success[one.success].all()
    assert five.linf.max() <= 0.03 + 1e-6
    with pytest.raises(ConfigError, match="restarts"):
        make_attack("pgd", restarts=2, random_start=False)


@pytest.mark.parametrize("kind", [k for k, d in ATTACKS.items() if d.ranges()])
def test_every_declared_range_is_checked_in_one_line(kind):
    """Each attack kind's RANGES (docs/attacks.md's table shows them): a value just outside a range stops the
    attack's making with one line naming the setting; the defaults lie inside."""
    declared = ATTACKS[kind]
    declared.make()  # the defaults are in range
    for key, rule in declared.ranges().items():
        op, bound = rule.split()
        outside = float(bound) if op == ">" else float(bound) - 1
        value = int(outside) if isinstance(declared.settings()[key], int) else outside
        if key == "restarts":  # restarts > 1 needs random_start; 0 is outside on its own
            value = 0
        with pytest.raises(ConfigError) as exc:
            declared.make(**{key: value})
        message = str(exc.value)
        assert "\n" not in message and f"{key} must be {rule}" in message and "got" in message, message
