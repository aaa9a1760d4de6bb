"""Library pieces below the workflow: io safety, seeds, models, training, FGSM."""

import gc
import pickle
import threading
import time

import numpy as np
import pytest
import torch

from guided_retraining.attacks import FGSM
from guided_retraining.errors import DataError
from guided_retraining.io import load_npz, load_state_dict, npz_headers, save_npz, save_state_dict
from guided_retraining.models import build_model
from guided_retraining.seeding import derive_seed
from guided_retraining.training import TrainSettings, accuracy, train


def test_npz_round_trip_and_refusals(tmp_path):
    save_npz(tmp_path / "a.npz", x=np.arange(3))
    assert load_npz(tmp_path / "a.npz", ["x"])["x"].tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="missing arrays"):
        load_npz(tmp_path / "a.npz", ["y"])
    (tmp_path / "cut.npz").write_bytes((tmp_path / "a.npz").read_bytes()[:40])
    with pytest.raises(DataError, match="corrupt or truncated"):
        load_npz(tmp_path / "cut.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="pickled"):
        load_npz(tmp_path / "obj.npz")


def test_npz_reads_in_threads_of_one_process(tmp_path):
    """A local run's jobs are threads of the Snakemake process, and numpy parses every array header with
    ast.literal_eval: without io.AST_LOCK, CPython 3.11.7 (CI's) fails here with "SystemError: AST
    constructor recursion depth mismatch" when a garbage collection hands the GIL to another thread (as a
    job's torch code does; CI's deepcustom test failed so)."""
    path = tmp_path / "many.npz"
    save_npz(path, **{f"a{i}": np.full((2, i + 1), i, dtype=np.float32) for i in range(40)})
    errors = []

    def hand_over_gil(phase, info):
        time.sleep(0)

    def reader():
        try:
            for _ in range(60):
                assert load_npz(path)["a39"].tolist() == [[39.0] * 40] * 2
                assert npz_headers(path)["a7"] == ((2, 8), np.dtype(np.float32))
        except Exception as exc:  # noqa: BLE001 - collected and compared below
            errors.append(repr(exc))

    threshold = gc.get_threshold()
    gc.callbacks.append(hand_over_gil)
    gc.set_threshold(10, 2, 2)
    try:
        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.callbacks.remove(hand_over_gil)
        gc.set_threshold(*threshold)
    assert errors == []


class _Boom:
    target = "/nonexistent"

    def __reduce__(self):  # unpickling would create a file: code execution
        return (open, (self.target, "w"))


def test_model_loading_refuses_pickles_and_other_architectures(tmp_path):
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    save_state_dict(tmp_path / "m.pt", model)
    other = build_model("digits_cnn", (1, 8, 8), 10, seed=1)
    load_state_dict(tmp_path / "m.pt", other)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), other.state_dict().values()))
    with pytest.raises(DataError, match="do not match architecture"):
        load_state_dict(tmp_path / "m.pt", build_model("mnist_cnn", (1, 28, 28), 10))
    marker = tmp_path / "pwned"
    _Boom.target = str(marker)
    with open(tmp_path / "evil.pt", "wb") as fh:
        pickle.dump({"w": _Boom()}, fh)
    with pytest.raises(DataError, match="weights_only=True"):
        load_state_dict(tmp_path / "evil.pt", model)
    assert not marker.exists()


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "digits", "C1") == derive_seed(0, "digits", "C1")
    assert derive_seed(0, "digits", "C1") != derive_seed(1, "digits", "C1")
    assert 0 <= derive_seed(5, "x") < 2**31


def test_training_is_reproducible_and_learns():
    rng = np.random.default_rng(0)
    x = rng.random((256, 1, 8, 8), dtype=np.float32)
    y = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    weights = []
    for _ in range(2):
        model = build_model("digits_cnn", (1, 8, 8), 2, seed=3)
        train(model, x, y, TrainSettings(epochs=15, batch_size=32), seed=4)
        weights.append(torch.cat([p.flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert accuracy(model, x, y) > 0.8


def test_fgsm_moves_every_pixel_by_eps_within_bounds():
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0).eval()  # eval: no dropout in the loss check
    x = np.full((4, 1, 8, 8), 0.5, dtype=np.float32)
    x[0, 0, 0, 0] = 0.0
    y = np.arange(4)
    result = FGSM(eps=0.1).run(model, x, y)
    delta = result.x_adv - x
    assert np.allclose(np.abs(delta[1:]), 0.1, atol=1e-6)
    assert result.x_adv.min() >= 0.0 and result.x_adv.max() <= 1.0
    loss = torch.nn.functional.cross_entropy
    with torch.no_grad():
        assert loss(model(torch.from_numpy(result.x_adv)), torch.from_numpy(y)) > loss(model(torch.from_numpy(x)), torch.from_numpy(y))
    assert result.summary()["linf_max"] <= 0.1 + 1e-6


def test_activations_average_conv_layers_over_space_and_resolve_last_hidden():
    from guided_retraining.activations import extract

    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0)
    x = np.random.default_rng(0).random((5, 1, 8, 8), dtype=np.float32)
    acts = extract(model, x, ["conv2", "last_hidden"])
    assert acts["layer:conv2"].shape == (5, 16) and acts["layer:dense1"].shape == (5, 64)
    with torch.no_grad():
        conv = model.conv2(model.conv1(torch.from_numpy(x)))
    assert np.allclose(acts["layer:conv2"], conv.mean(dim=(2, 3)).numpy(), atol=1e-6)
    assert np.allclose(acts["probs"].sum(1), 1, atol=1e-5) and (acts["pred"] == acts["probs"].argmax(1)).all()


def test_saved_weights_are_byte_identical_whatever_the_file_name(tmp_path):
    """The same weights give the same bytes in model.pt files of any name (torch.save to a path would name
    the archive's records after the atomic write's random temporary file)."""
    import torch

    from guided_retraining.io import load_state_dict, save_state_dict

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    save_state_dict(tmp_path / "a/model.pt", model)
    save_state_dict(tmp_path / "b/other.pt", model)
    assert (tmp_path / "a/model.pt").read_bytes() == (tmp_path / "b/other.pt").read_bytes()
    copy = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    load_state_dict(tmp_path / "b/other.pt", copy)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), copy.parameters()))
