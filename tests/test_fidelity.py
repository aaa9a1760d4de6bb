"""The study as published (issue 13): replication switches, the attack protocol, the SA reference
options, training that watches validation. Hand-checkable cases and the real entry scripts on digits."""

from __future__ import annotations

import logging
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from guided_retraining.attacks import FGSM, SoftmaxAsLogits, filter_successful
from guided_retraining.errors import ModelError
from guided_retraining.io import load_json, load_npz, save_npz, save_state_dict
from guided_retraining.metrics import dsa
from guided_retraining.models import build_model
from guided_retraining.baseline import check_original_learned, linear_baseline, majority_share, required_accuracy
from guided_retraining.training import TrainSettings, crop_flip, fit

from conftest import Files, script

LOG = logging.getLogger("test_fidelity")



# --- replication switches -------------------------------------------------------------------------------

def test_keras_init_draws_glorot_uniform_weights_and_zero_biases():
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0, init="keras")
    conv = model.conv1.conv  # 1 -> 8 channels, 3x3: fan_in 9, fan_out 72
    bound = math.sqrt(6 / (9 + 72))
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound
    assert all(float(m.bias.detach().abs().max()) == 0.0 for m in model.modules() if isinstance(m, (torch.nn.Conv2d,
                                                                                          torch.nn.Linear)))
    torch_default = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    assert float(torch_default.conv1.conv.bias.detach().abs().max()) > 0  # PyTorch's default stays the default
    with pytest.raises(ValueError, match="init"):
        build_model("digits_cnn", (1, 8, 8), 10, seed=0, init="glorot")


def test_softmax_as_logits_hands_the_attack_probabilities(digits_data):
    x, y = digits_data[0][:64], digits_data[1][:64]
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    wrapped = SoftmaxAsLogits(model).eval()
    with torch.no_grad():
        out = wrapped(torch.from_numpy(x))
    assert torch.allclose(out.sum(1), torch.ones(64), atol=1e-5)
    flawed = FGSM(eps=0.05).run(wrapped, x, y).x_adv
    fixed = FGSM(eps=0.05).run(model, x, y).x_adv
    assert not np.array_equal(flawed, fixed)  # the gradient of cross-entropy over softmax(softmax) differs


# --- training that watches validation ---------------------------------------------------------------------

def test_min_steps_raise_the_epochs():
    s = TrainSettings(epochs=2, batch_size=10, min_steps=45)
    assert s.epochs_for(100) == 5  # 10 steps per epoch: 45 steps need 5 epochs
    assert s.epochs_for(1000) == 2
    assert TrainSettings.from_config({"epochs": 3, "batch_size": 8, "patience": 2, "init": "keras"}).patience == 2


def test_fit_records_validation_accuracy_and_early_stopping_keeps_the_best_epoch(digits_data):
    from guided_retraining.training import accuracy

    x, y, xv, yv = digits_data
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=1)
    settings = TrainSettings(epochs=12, batch_size=64, lr=0.003, patience=2)
    history = fit(model, x, y, settings, seed=1, validation=(xv, yv))
    assert len(history.val_acc) == len(history.losses) <= 12 and history.steps == len(history.losses) * 19
    assert history.best_epoch == int(np.argmax(history.val_acc)) + 1
    assert accuracy(model, xv, yv) == max(history.val_acc)  # the best epoch's weights were restored
    if history.stopped_early:
        assert len(history.losses) == history.best_epoch + 2


def test_a_model_that_learned_too_little_stops_the_run_with_one_line():
    y_train = np.array([0, 0, 0, 1, 2])
    y_val = np.array([0, 0, 1, 2])
    assert majority_share(y_train, y_val) == 0.5
    assert required_accuracy(0.5, 0.9) == pytest.approx(0.7)  # half of the baseline's gain of 0.4
    assert required_accuracy(0.5, 0.4) == 0.5 and required_accuracy(0.5, float("nan")) == 0.5
    with pytest.raises(ModelError) as info:
        check_original_learned(0.65, y_train, y_val, 0.9, "gtsrb")
    assert str(info.value) == (
        "datasets.gtsrb: the original model learned too little: validation accuracy 0.6500, a linear classifier on"
        " the pixels 0.9000, the most frequent class 0.5000 (required: above 0.5000 and at least 0.7000, half the"
        " linear classifier's gain); train longer (train.min_steps, or train.patience with more train.epochs) or set"
        " allow_chance_original: true to go on anyway")
    with pytest.raises(ModelError, match="validation accuracy 0.5000"):  # no better than the most frequent class
        check_original_learned(0.5, y_train, y_val, 0.4, "gtsrb")
    assert check_original_learned(0.65, y_train, y_val, 0.9, "gtsrb", allow=True)["required_acc_val"] == \
        pytest.approx(0.7)
    assert check_original_learned(0.7, y_train, y_val, 0.9, "gtsrb") == {
        "majority_class_acc_val": 0.5, "linear_baseline_acc_val": 0.9, "required_acc_val": pytest.approx(0.7)}


def test_linear_baseline_is_seeded_and_subsamples(digits_data):
    x, y, xv, yv = digits_data
    full = linear_baseline(x[:900], y[:900], xv, yv, seed=0)
    assert full["n_train"] == 900 and full["acc_val"] > 0.9  # logistic regression on digits pixels: ~0.96
    a, b, c = (linear_baseline(x[:900], y[:900], xv, yv, seed=s, max_train=300) for s in (1, 1, 2))
    assert a == b and a["n_train"] == 300 and a["acc_val"] != c["acc_val"]
    assert np.isnan(linear_baseline(x[:900], y[:900], xv[:0], yv[:0], seed=0)["acc_val"])


def test_crop_flip_is_seeded_and_keeps_the_shape():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    a = crop_flip(x, torch.Generator().manual_seed(0))
    b = crop_flip(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, x)


# --- attacks ------------------------------------------------------------------------------------------------

def test_keep_successful_counts_only_inputs_classified_correctly_before():
    from guided_retraining.attacks import AttackResult

    x = np.zeros((4, 1, 2, 2), np.float32)
    result = AttackResult(x_adv=x + 0.1, success=np.array([True, True, False, True]), linf=np.zeros(4),
                          l2=np.zeros(4))
    _, _, idx = filter_successful(result, x, np.arange(4), correct_before=np.array([True, False, True, True]))
    assert idx.tolist() == [0, 3]  # input 1 was wrong before the attack: not fooled by it


@pytest.fixture(scope="module")
def digits_study(tmp_path_factory, digits_data):
    """Prepared digits data and an original model trained for a few epochs, as the workflow writes them."""
    root = tmp_path_factory.mktemp("fidelity")
    x, y, xt, yt = digits_data
    save_npz(root / "data.npz", x_train=x[:900], y_train=y[:900], x_val=x[900:], y_val=y[900:], x_test=xt,
             y_test=yt)
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    fit(model, x[:900], y[:900], TrainSettings(epochs=6, batch_size=64), seed=0)
    save_state_dict(root / "model.pt", model)
    return root


def run_attack(root, name, settings, size=60):
    settings = {"keep_successful": False, "softmax_as_logits": False, "adv_test": None, **settings}
    out = root / name
    job = SimpleNamespace(
        input=Files(data=str(root / "data.npz"), model=str(root / "model.pt"), generators=[]),
        output=Files(adversarial=str(out / "adversarial.npz"), summary=str(out / "attack.json")),
        params=SimpleNamespace(attack=settings, arch="digits_cnn", adv_train_size=size, batch_size_eval=256,
                               device="cpu", seed=0),
        wildcards=SimpleNamespace(dataset="digits", rep="1", attack=name))
    script("attack").main(job, LOG)
    return load_npz(out / "adversarial.npz"), load_json(out / "attack.json")


def test_every_attack_perturbs_the_same_training_inputs_and_adv_test_may_be_another_attack(digits_study):
    fgsm, _ = run_attack(digits_study, "fgsm", {"kind": "fgsm", "eps": 0.05})
    mix, summary = run_attack(digits_study, "mix_v2", {"kind": "mix", "eps": 0.05, "steps": 3,
                                                      "adv_test": {"kind": "fgsm", "eps": 0.05}})
    assert np.array_equal(fgsm["idx_adv_train"], mix["idx_adv_train"])
    # Adv.Train from the mix (three attacks), Adv.Test from FGSM: identical to the FGSM attack's Adv.Test
    assert set(summary["adv_train"]["by_kind"]) == {"fgsm", "l1bim", "l2bim"} and "by_kind" not in summary["adv_test"]
    assert summary["adv_test_attack"] == "fgsm" and np.array_equal(mix["x_adv_test"], fgsm["x_adv_test"])
    assert not np.array_equal(mix["x_adv_train"], fgsm["x_adv_train"])


def test_attack_records_fooled_and_misclassified_counts(digits_study):
    adv, summary = run_attack(digits_study, "fgsm_kept", {"kind": "fgsm", "eps": 0.1, "keep_successful": True})
    assert summary["adv_train_fooled"] <= summary["adv_train_misclassified"]
    assert summary["adv_train_fooled"] <= summary["adv_train_correct_before"] <= 60
    assert summary["adv_train_kept"] == summary["adv_train_fooled"] == len(adv["idx_adv_train"])


# --- surprise adequacy: the clean source and the validation reference -----------------------------------

def score_job(root, options, kind):
    """Activation files of a hand-made Train* (two clean inputs, one adversarial copy of clean input 0)."""
    train = np.array([[0.0, 0.0], [3.0, 4.0]])
    target = np.vstack([train, [[0.0, 0.0]]])  # the attack failed: the adversarial input equals its source
    pred = np.array([0, 1, 0])
    val = np.array([[1.0, 0.0], [3.0, 3.0]])
    probs = np.eye(2)[pred].astype(np.float32)
    meta = dict(n_train=np.int64(2), idx_adv_train=np.array([0]), seconds=np.float64(1.5), cpu_seconds=np.float64(1.0),
                val_seconds=np.float64(0.5), val_cpu_seconds=np.float64(0.25), pred=pred, pred_val=np.arange(2))
    save_npz(root / "softmax.npz", probs=probs, probs_val=np.eye(2, dtype=np.float32), **meta)
    save_npz(root / "dense1.npz", acts=target, acts_val=val, **meta)
    out = root / f"{kind}_{len(list(root.iterdir()))}"
    job = SimpleNamespace(
        input=Files(softmax=str(root / "softmax.npz"), layer_dense1=str(root / "dense1.npz")),
        output=Files(scores=str(out) + ".npz", summary=str(out) + ".json"),
        params=SimpleNamespace(kind=kind, options=options, layers=["dense1"], arch="digits_cnn", device="cpu", seed=0),
        wildcards=SimpleNamespace(dataset="d", rep="1", attack="a", metric=kind))
    script("score").main(job, LOG)
    return load_npz(str(out) + ".npz")["scores"], load_json(str(out) + ".json")


def test_exclude_self_leaves_out_an_adversarial_inputs_clean_source(tmp_path):
    plain, summary = score_job(tmp_path, {"exclude_self": False}, "dsa")
    assert plain.tolist() == [0.0, 0.0, 0.0]  # every input finds itself or its source: DSA 0
    assert summary["input_seconds"] == {"dense1": 1.5}  # its traces over Train*: no softmax pass, no validation
    excluded, _ = score_job(tmp_path, {"exclude_self": True}, "dsa")
    # without itself (or its source) the class-0 input has no class-0 reference left: inf, as dsa defines it
    assert np.isinf(excluded[[0, 2]]).all()
    ref = dsa(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([0, 1]), np.array([[0.0, 0.0]]), np.array([0]),
              exclude_self=np.array([0]))
    assert np.isinf(ref).all()


def test_reference_validation_scores_against_the_validation_traces(tmp_path):
    scores, summary = score_job(tmp_path, {"reference": "validation", "exclude_self": True}, "dsa")
    # class 0's validation trace is (1, 0), class 1's (3, 3); dist((1,0),(3,3)) = sqrt(13)
    d_ab = math.sqrt(13)
    assert np.allclose(scores, [1.0 / d_ab, 1.0 / d_ab, 1.0 / d_ab]) and summary["n_reference"] == 2
    assert summary["input_seconds"] == {"dense1": 1.5, "dense1:validation": 0.5}  # the reference traces are read


def run_train_original(root, name, train, allow=False):
    out = root / name
    job = SimpleNamespace(
        input=Files(data=str(root / "data.npz")),
        output=Files(model=str(out / "model.pt"), summary=str(out / "train.json")),
        params=SimpleNamespace(arch="digits_cnn", train=train, original={}, batch_size_eval=256, allow_chance=allow,
                               device="cpu", seed=0),
        wildcards=SimpleNamespace(dataset="digits", rep="1"))
    script("train_original").main(job, LOG)
    return load_json(out / "train.json")


def test_train_original_records_validation_accuracy_and_stops_an_untrained_model(digits_study):
    summary = run_train_original(digits_study, "trained", {"epochs": 6, "batch_size": 64})
    assert len(summary["val_acc"]) == 6 and summary["acc_val"] == summary["val_acc"][-1] > 0.8
    assert summary["linear_baseline_acc_val"] == summary["linear_baseline"]["acc_val"] > 0.9
    assert summary["required_acc_val"] == pytest.approx(summary["majority_class_acc_val"]
                                                        + 0.5 * (summary["linear_baseline_acc_val"]
                                                                 - summary["majority_class_acc_val"]))
    # real digits, one epoch (14 steps): above the most frequent class (0.097) but far below the linear
    # classifier (0.967): the old guard let it through, this one stops it and writes nothing
    with pytest.raises(ModelError, match=r"learned too little: validation accuracy 0\.2200, a linear classifier on"
                                         r" the pixels 0\.9667, the most frequent class 0\.0967 .*\(train\.min_steps"):
        run_train_original(digits_study, "one_epoch", {"epochs": 1, "batch_size": 64})
    assert not (digits_study / "one_epoch" / "model.pt").exists()
    # blank images: any model predicts one class for all of them, no better than the most frequent class
    blank = digits_study / "blank"
    blank.mkdir()
    zeros = np.zeros((100, 1, 8, 8), np.float32)
    save_npz(blank / "data.npz", x_train=zeros, y_train=np.arange(100) % 10, x_val=zeros, y_val=np.arange(100) % 10,
             x_test=zeros[:20], y_test=np.arange(20) % 10)
    settings = {"epochs": 1, "batch_size": 64}
    with pytest.raises(ModelError, match="learned too little: validation accuracy 0.1000"):
        run_train_original(blank, "untrained", settings)
    assert not (blank / "untrained" / "model.pt").exists()  # nothing written
    summary = run_train_original(blank, "untrained", settings, allow=True)
    assert summary["acc_val"] == summary["majority_class_acc_val"] == 0.1


# --- run 004's colour setup ------------------------------------------------------------------------------------

def test_intel_loads_in_colour(tmp_path):
    from fixtures_datasets import class_colour, write_intel

    from guided_retraining.datasets import load

    write_intel(tmp_path, per_class=1, n_test_per_class=1, doubled=False, fmt="PNG")  # PNG: lossless colours
    raw = load("intel", tmp_path, grayscale=False)
    assert raw.x_train.shape == (6, 3, 48, 48) and raw.x_test.shape == (6, 3, 48, 48)
    for i, c in enumerate(raw.y_train):
        np.testing.assert_allclose(raw.x_train[i, :, 10, 10], np.array(class_colour(int(c)), np.float32) / 255)


def test_run_004_model_trains_with_augmentation_weight_decay_and_early_stopping():
    rng = np.random.default_rng(0)
    x = rng.random((96, 3, 32, 32), dtype=np.float32)
    y = (x[:, 0].mean(axis=(1, 2)) > 0.5).astype(np.int64)  # learnable from the red channel
    model = build_model("cifar_color_cnn", (3, 32, 32), 10, seed=0)
    assert model.last_hidden == "dense1" and model.conv1.conv.padding == (1, 1)
    settings = TrainSettings(epochs=3, batch_size=64, optimizer="adam", lr=1e-3, weight_decay=5e-4,
                             augment="crop_flip", patience=1)
    history = fit(model, x, y, settings, seed=0, validation=(x[:32], y[:32]))
    assert 1 <= len(history.losses) <= 3 and history.steps == 2 * len(history.losses)
    again = build_model("cifar_color_cnn", (3, 32, 32), 10, seed=0)
    assert fit(again, x, y, settings, seed=0, validation=(x[:32], y[:32])).losses == history.losses  # seeded
