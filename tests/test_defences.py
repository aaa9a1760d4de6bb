"""Defences: median filter values and gradients, squeezed model, adversarial training."""

import numpy as np
import pytest
import torch

from guided_retraining.attacks import make_attack
from guided_retraining.defences import (AdversarialTraining, MedianFilterModel, adversarial_train, median_filter,
                                        train_squeezed)
from guided_retraining.errors import ConfigError
from guided_retraining.models import build_model
from guided_retraining.training import TrainSettings, accuracy, train

torch.set_num_threads(1)  # tiny models: intra-op threads only add overhead on shared cores


@pytest.fixture(scope="module")
def digits(digits_data):
    return digits_data


def test_median_filter_2x2_by_hand():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    # window rows i-1..i, columns j-1..j, edge repeated, upper middle of 4 values
    expected = np.array([[0, 1, 2], [3, 3, 4], [6, 6, 7]], dtype=np.float32)
    np.testing.assert_array_equal(median_filter(x, 2)[0, 0], expected)
    np.testing.assert_array_equal(median_filter(torch.from_numpy(x), 2)[0, 0].numpy(), expected)


def test_median_filter_3x3_on_4x4_by_hand():
    x = np.array([[9, 0, 0, 0], [0, 0, 0, 0], [0, 0, 5, 5], [0, 0, 5, 5]], dtype=np.float32).reshape(1, 1, 4, 4)
    # (2, 2): window rows 1..3, columns 1..3 holds five 0 and four 5 -> 0; (2, 3): columns 2, 3, 3 -> six 5
    expected = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 5], [0, 0, 5, 5]], dtype=np.float32)
    np.testing.assert_array_equal(median_filter(x, 3)[0, 0], expected)
    # size 1 is the identity
    np.testing.assert_array_equal(median_filter(x, 1), x)


@pytest.mark.parametrize("size", [2, 3, 4])
def test_median_filter_equals_scipy_reflect(size):
    from scipy.ndimage import median_filter as scipy_median

    x = np.random.default_rng(size).random((3, 2, 7, 6), dtype=np.float32)
    np.testing.assert_array_equal(median_filter(x, size), scipy_median(x, size=(1, 1, size, size), mode="reflect"))


def test_median_filter_passes_gradients_to_the_selected_pixels():
    x = torch.rand(2, 1, 5, 5, generator=torch.Generator().manual_seed(0), requires_grad=True)
    median_filter(x, 2).sum().backward()
    assert x.grad is not None and x.grad.sum().item() == pytest.approx(2 * 25)  # one selected pixel per output
    assert (x.grad >= 0).all() and (x.grad > 0).any()


def test_squeezed_model_classifies_digits_and_can_be_attacked(digits):
    xtr, ytr, xte, yte = digits
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    wrapped = train_squeezed(model, xtr, ytr, TrainSettings(epochs=4, batch_size=64), seed=1, size=2)
    assert isinstance(wrapped, MedianFilterModel) and wrapped.model is model and len(wrapped.losses) == 4
    with torch.no_grad():
        logits = wrapped(torch.from_numpy(xte[:7]))
    assert logits.shape == (7, 10)
    assert torch.equal(logits, model(torch.from_numpy(median_filter(xte[:7], 2))))
    assert accuracy(wrapped, xte, yte) > 0.7
    result = make_attack("pgd", eps=0.1, seed=0).run(wrapped, xte[:64], yte[:64])  # gradients flow through the filter
    assert result.linf.max() <= 0.1 + 1e-6 and result.success.mean() > 1 - accuracy(wrapped, xte[:64], yte[:64])


def test_adversarial_training_improves_fgsm_robustness(digits):
    xtr, ytr, xte, yte = digits
    settings, eps = TrainSettings(epochs=6, batch_size=32), 0.1
    plain = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    train(plain, xtr, ytr, settings, seed=1)
    robust = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    losses = adversarial_train(robust, xtr, ytr, settings, 1, AdversarialTraining(attack="fgsm", eps=eps))
    assert len(losses) == 6 and losses[-1] < losses[0] and not robust.training
    fgsm = make_attack("fgsm", eps=eps)
    adv_plain = accuracy(plain, fgsm.run(plain, xte, yte).x_adv, yte)
    adv_robust = accuracy(robust, fgsm.run(robust, xte, yte).x_adv, yte)
    assert adv_robust > adv_plain + 0.05, (adv_plain, adv_robust)
    assert accuracy(robust, xte, yte) > 0.7


def test_adversarial_training_with_pgd_is_seeded(digits):
    xtr, ytr, _, _ = digits
    settings = TrainSettings(epochs=1, batch_size=64)
    weights = []
    for seed in (3, 3, 4):
        model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)  # layer constructors draw from the global RNG
        torch_state, np_state = torch.get_rng_state(), np.random.get_state()[1]
        adversarial_train(model, xtr[:256], ytr[:256], settings, seed=seed,
                          adversarial=AdversarialTraining(attack="pgd", eps=0.1, attack_steps=3))
        assert torch.equal(torch.get_rng_state(), torch_state) and np.array_equal(np.random.get_state()[1], np_state)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])
    with pytest.raises(ConfigError, match="attack must be one of"):
        AdversarialTraining(attack="cw")
    with pytest.raises(ConfigError, match="alpha_mix"):
        AdversarialTraining.from_config({"alpha_mix": 1.5})
