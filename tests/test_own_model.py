"""A user's own model (arch {factory, kwargs, normalize}, original weights) and data (imagefolder, arrays):
the loaders, the model wrapper, the one-line errors before any job, and the whole tiny study end to end."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from conftest import CONFIGS, REPO, snakemake
from fixtures_datasets import write_digits_folder, write_user_model

from guided_retraining import datasets
from guided_retraining.activations import extract
from guided_retraining.config import check_semantics, validate_schema
from guided_retraining.errors import ConfigError, DataError
from guided_retraining.io import save_npz
from guided_retraining.models import build_model, load_model
from guided_retraining.models.layers import SeededDropout
from guided_retraining.models.user import layer_names

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


# ---- loader: imagefolder ---------------------------------------------------------------------------------

def test_imagefolder_flat_layout_reads_every_pixel_and_keeps_colour(tmp_path):
    files = write_digits_folder(tmp_path / "digits", per_class=3)
    (tmp_path / "digits" / "d3" / "notes.txt").write_text("not an image")  # ignored
    raw = datasets.load("imagefolder", tmp_path / "digits")
    assert raw.x_test is None and raw.n_classes == 10 and raw.classes == [f"d{k}" for k in range(10)]
    assert raw.x_train.shape == (30, 3, 8, 8) and raw.x_train.dtype == np.float32
    # sorted class folders, then sorted file names: the first image is digit 0's first
    path, label = files["train"][0]
    expected = np.asarray(Image.open(path), dtype=np.float32) / 255
    assert raw.y_train[0] == label == 0
    for channel in range(3):  # a grayscale file becomes three equal channels
        np.testing.assert_array_equal(raw.x_train[0, channel], expected)
    assert np.bincount(raw.y_train).tolist() == [3] * 10
    gray = datasets.load("imagefolder", tmp_path / "digits", grayscale=True, size=4)
    assert gray.x_train.shape == (30, 1, 4, 4)


def test_imagefolder_train_test_layout_and_colour(tmp_path):
    root = tmp_path / "colours"
    for part, n in (("train", 2), ("test", 1)):
        for label, (name, colour) in enumerate((("blue", (0, 0, 255)), ("red", (255, 0, 0)))):
            (root / part / name).mkdir(parents=True)
            for j in range(n):
                Image.new("RGB", (5, 4), colour).save(root / part / name / f"{j}.jpg" if j else
                                                      root / part / name / f"{j}.bmp")
    raw = datasets.load("imagefolder", root)
    assert raw.classes == ["blue", "red"] and raw.x_train.shape == (4, 3, 4, 5) and raw.x_test.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(raw.y_test, [0, 1])
    bmp = raw.x_test[1]  # a lossless .bmp of pure red: exact
    np.testing.assert_array_equal(bmp[0], 1.0)
    np.testing.assert_array_equal(bmp[1:], 0.0)
    assert datasets.signature("imagefolder", root, {}) == ((3, 4, 5), 2, 6)
    assert datasets.signature("imagefolder", root, {"size": 8, "grayscale": True}) == ((1, 8, 8), 2, 6)


def test_imagefolder_errors(tmp_path):
    root = tmp_path / "f"
    with pytest.raises(DataError, match="image folder not found"):
        datasets.check_available("imagefolder", root)
    root.mkdir()
    with pytest.raises(DataError, match="no class folders found"):
        datasets.check_available("imagefolder", root)
    (root / "cat").mkdir()
    (root / "dog").mkdir()
    Image.new("RGB", (4, 4)).save(root / "cat" / "a.png")
    (root / "dog" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="class folder\\(s\\) 'dog' hold no image"):
        datasets.check_available("imagefolder", root)
    Image.new("RGB", (6, 4)).save(root / "dog" / "b.png")
    with pytest.raises(DataError, match="images differ in size.*set options.size"):
        datasets.load("imagefolder", root)
    assert datasets.load("imagefolder", root, size=[3, 5]).x_train.shape == (2, 3, 3, 5)
    (root / "dog" / "c.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="c.png: cannot read"):
        datasets.load("imagefolder", root, size=4)


# ---- loader: arrays --------------------------------------------------------------------------------------

def test_arrays_channels_last_uint8_and_checks(tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)  # N, H, W, C
    x_test = rng.integers(0, 256, (2, 5, 4, 3), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x_train=x_train, y_train=np.array([0, 1, 2, 0, 1, 2]), x_test=x_test,
             y_test=np.array([2, 0]))
    raw = datasets.load("arrays", tmp_path / "a.npz")
    assert raw.x_train.shape == (6, 3, 5, 4) and raw.n_classes == 3
    np.testing.assert_array_equal(raw.x_train[1, 2], x_train[1, :, :, 2] / np.float32(255))
    assert datasets.signature("arrays", tmp_path / "a.npz") == ((3, 5, 4), 3, 8)

    def bad(**arrays):
        base = dict(x_train=np.zeros((2, 1, 4, 4), np.float32), y_train=np.array([0, 1]),
                    x_test=np.zeros((1, 1, 4, 4), np.float32), y_test=np.array([1]))
        base.update(arrays)
        np.savez(tmp_path / "b.npz", **{k: v for k, v in base.items() if v is not None})
        with pytest.raises(DataError) as info:
            datasets.check_available("arrays", tmp_path / "b.npz")
            datasets.load("arrays", tmp_path / "b.npz")
        assert "\n" not in str(info.value) and "b.npz" in str(info.value)
        return str(info.value)

    assert "missing arrays ['y_test']" in bad(y_test=None)
    assert "expected (N, H, W), (N, C, H, W) or (N, H, W, C)" in bad(x_test=np.zeros((1, 5, 4, 4), np.float32))
    assert "y_train: expected 2 integer labels" in bad(y_train=np.array([0, 1, 1]))
    assert "y_train: expected 2 integer labels" in bad(y_train=np.array([0.0, 1.0]))
    assert "negative label -1" in bad(y_test=np.array([-1]))
    assert "train images are (1, 4, 4)" in bad(x_test=np.zeros((1, 1, 5, 5), np.float32))
    assert "pixels must lie in [0, 1]" in bad(x_train=np.full((2, 1, 4, 4), 2.0, np.float32))
    assert "dtype int64" in bad(x_train=np.zeros((2, 1, 4, 4), np.int64))
    assert "allow_pickle=False" in bad(y_train=np.array([0, object()], dtype=object))


# ---- the user's model ------------------------------------------------------------------------------------

@pytest.fixture()
def user_arch(tmp_path):
    path = write_user_model(tmp_path / "elsewhere")
    return {"factory": f"{path}:make", "kwargs": {"channels": 3, "n_classes": 4}}


def test_user_model_is_seeded_keeps_its_state_dict_and_names(user_arch):
    a, b = build_model(user_arch, (3, 8, 8), 4, seed=5), build_model(user_arch, (3, 8, 8), 4, seed=5)
    c = build_model(user_arch, (3, 8, 8), 4, seed=6)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.state_dict()["features.0.weight"], c.state_dict()["features.0.weight"])
    assert list(a.state_dict()) == ["features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias",
                                    "classifier.1.weight", "classifier.1.bias", "classifier.4.weight",
                                    "classifier.4.bias"]
    assert isinstance(a.classifier[3], SeededDropout) and a.classifier[3].p == 0.25
    assert a.last_hidden == "classifier.4.input"
    assert {"features.4", "classifier.1.input", "classifier.4.input"} <= set(layer_names(a))


def test_user_model_activations_by_module_name_and_normalisation(user_arch):
    arch = {**user_arch, "normalize": {"mean": [0.5, 0.25, 0.0], "std": [0.5, 0.25, 2.0]}}
    model = build_model(arch, (3, 8, 8), 4, seed=1)
    x = np.random.default_rng(0).random((7, 3, 8, 8), dtype=np.float32)
    acts = extract(model, x, ["last_hidden", "features.4"])
    with torch.no_grad():
        xn = (torch.from_numpy(x) - torch.tensor([0.5, 0.25, 0.0]).view(1, 3, 1, 1)) / \
            torch.tensor([0.5, 0.25, 2.0]).view(1, 3, 1, 1)
        feats = model.features(xn)
        hidden = model.classifier[2](model.classifier[1](model.classifier[0](feats)))  # ReLU(Linear(flatten))
        logits = model.classifier[4](hidden)
        conv = model.features[4](model.features[3](model.features[2](model.features[1](model.features[0](xn)))))
    np.testing.assert_allclose(acts["layer:classifier.4.input"], hidden.numpy(), rtol=1e-6)
    np.testing.assert_allclose(acts["layer:features.4"], conv.mean(dim=(2, 3)).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(acts["probs"], torch.softmax(logits, 1).numpy(), rtol=1e-5)
    assert "_gr_mean" not in model.state_dict()  # normalisation is config, not weights


def test_user_weights_load_and_misfit_is_one_line(user_arch, tmp_path):
    model = build_model(user_arch, (3, 8, 8), 4, seed=1)
    torch.save(model.state_dict(), tmp_path / "w.pt")
    again = load_model(tmp_path / "w.pt", user_arch, (3, 8, 8), 4)
    assert torch.equal(again.classifier[4].weight, model.classifier[4].weight)
    other = {**user_arch, "kwargs": {"channels": 3, "n_classes": 4, "width": 4}}
    with pytest.raises(DataError, match="w.pt: weights do not match architecture Net"):
        load_model(tmp_path / "w.pt", other, (3, 8, 8), 4)


# ---- one-line errors before any job ----------------------------------------------------------------------

def own_config(tmp_path, arch=None, **dataset):
    """The tiny study on a digits image folder and the test's model module (written under tmp_path)."""
    folder = tmp_path / "images"
    if not folder.exists():
        write_digits_folder(folder, per_class=30)
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    model = write_user_model(tmp_path / "models")
    ds = {"loader": "imagefolder", "root": str(folder), "arch": arch or {
        "factory": f"{model}:make", "kwargs": {"channels": 3, "n_classes": 10}},
        "train": {"epochs": 15, "batch_size": 16, "optimizer": "adam"}, "adv_train_size": 20}
    ds.update(dataset)
    config["datasets"] = {"mine": ds}
    config["metrics"] = {"nc": {"layers": ["features.4"]}, "dsa": {"layers": ["last_hidden"]}, "deepgini": {}}
    return config


def config_error(config, check_data=True) -> str:
    with pytest.raises((ConfigError, DataError)) as info:
        validate_schema(config, SCHEMA)
        check_semantics(config, check_data)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_own_config_passes(tmp_path):
    config = own_config(tmp_path)
    validate_schema(config, SCHEMA)
    check_semantics(config)


def test_factory_errors(tmp_path):
    config = own_config(tmp_path)
    model = tmp_path / "models" / "user_net.py"
    cases = [
        ({"factory": "no_such_package.models:make"}, ["datasets.mine.arch.factory", "cannot import module",
                                                      "'no_such_package.models'", "ModuleNotFoundError"]),
        ({"factory": f"{tmp_path}/missing.py:make"}, ["datasets.mine.arch.factory", "missing.py not found"]),
        ({"factory": f"{model}:absent"}, ["datasets.mine.arch.factory", "has no function 'absent'"]),
        ({"factory": f"{model}:not_a_module"}, ["datasets.mine.arch.factory", "returned str",
                                                "expected a torch.nn.Module"]),
        ({"factory": f"{model}:make", "kwargs": {"colour": 3}}, ["datasets.mine.arch.factory", "failed",
                                                                 "TypeError", "colour"]),
        ({"factory": "make"}, ["datasets.mine.arch.factory", "'make'", "package.module:function"]),
    ]
    broken = tmp_path / "models" / "broken.py"
    broken.write_text("import torch\nraise RuntimeError('no GPU here')\n")
    cases.append(({"factory": f"{broken}:make"}, ["datasets.mine.arch.factory", "importing", "broken.py",
                                                  "RuntimeError: no GPU here"]))
    for arch, words in cases:
        config["datasets"]["mine"]["arch"] = arch
        message = config_error(config, check_data=False)
        for word in words:
            assert word in message, message


def test_factory_as_module_on_the_path(tmp_path, monkeypatch):
    write_user_model(tmp_path / "pkg_root" / "mymodels", "nets.py")
    (tmp_path / "pkg_root" / "mymodels" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "pkg_root"))
    config = own_config(tmp_path, arch={"factory": "mymodels.nets:make", "kwargs": {"n_classes": 10}})
    validate_schema(config, SCHEMA)
    check_semantics(config)


def test_layer_that_does_not_exist_lists_the_names(tmp_path):
    config = own_config(tmp_path)
    config["metrics"]["nc"]["layers"] = ["features.9"]
    message = config_error(config, check_data=False)
    assert "metrics.nc.layers: 'features.9' is not a layer of" in message
    assert "features.4, features.5, classifier, classifier.0" in message and "classifier.4.input" in message
    config["metrics"]["nc"]["layers"] = ["features.3.input", "classifier.1.input"]  # a module's input
    validate_schema(config, SCHEMA)
    check_semantics(config, check_data=False)


def test_last_hidden_without_a_linear_layer(tmp_path):
    path = tmp_path / "conv_only.py"
    path.write_text("from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Conv2d(3, 10, 8), nn.Flatten())\n")
    config = own_config(tmp_path, arch={"factory": f"{path}:make"})
    config["metrics"]["nc"]["layers"] = ["0"]
    message = config_error(config, check_data=False)
    assert "metrics.dsa.layers: last_hidden is the input of the last nn.Linear" in message and "has none" in message


def test_output_size_differs_from_the_classes(tmp_path):
    config = own_config(tmp_path)
    config["datasets"]["mine"]["arch"]["kwargs"]["n_classes"] = 7
    message = config_error(config)
    assert message.startswith("datasets.mine.arch: the model outputs (2, 7)")
    assert "expected logits (2, 10)" in message
    config["datasets"]["mine"]["arch"]["kwargs"] = {"channels": 1, "n_classes": 10}  # data has 3 channels
    message = config_error(config)
    assert "datasets.mine.arch: the model fails on inputs of shape (3, 8, 8)" in message and "RuntimeError" in message


def test_image_folder_empty_or_class_without_images(tmp_path):
    config = own_config(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    config["datasets"]["mine"]["root"] = str(empty)
    assert config_error(config).startswith(f"datasets.mine.root: imagefolder: {empty}: no class folders found")
    (empty / "cats").mkdir()
    assert "class folder(s) 'cats' hold no image" in config_error(config)
    config["datasets"]["mine"]["root"] = str(tmp_path / "nowhere")
    assert "nowhere: image folder not found" in config_error(config)


def test_one_class_is_named_as_such_before_the_model_is_built(tmp_path):
    """One class folder: the message says a classifier needs two classes and how many folders it found
    (not that the model's output has the wrong shape); the same for arrays with one label value."""
    config = own_config(tmp_path)
    one = tmp_path / "one"
    shutil.copytree(tmp_path / "images" / "d3", one / "d3")
    config["datasets"]["mine"]["root"] = str(one)
    assert config_error(config) == (f"datasets.mine.root: imagefolder: {one}: a classifier needs at least two classes,"
                                    f" found 1 class folder ('d3'); put each class's images in a folder of its own"
                                    f" (root/<class>/<images> or root/train/<class>/ and root/test/<class>/)")
    x = np.zeros((4, 8, 8), np.uint8)
    save_npz(tmp_path / "one.npz", x_train=x, y_train=np.full(4, 2), x_test=x[:2], y_test=np.full(2, 2))
    config["datasets"]["mine"].update(loader="arrays", root=str(tmp_path / "one.npz"))
    assert config_error(config).endswith("one.npz: a classifier needs at least two classes, found 1 label value (2)"
                                         " in y_train and y_test")
    save_npz(tmp_path / "two.npz", x_train=x, y_train=np.arange(4) % 2, x_test=x[:2], y_test=np.arange(2))
    assert datasets.signature("arrays", tmp_path / "two.npz", {}) == ((1, 8, 8), 2, 6)  # N, H, W images


def test_weights_that_do_not_fit(tmp_path):
    config = own_config(tmp_path)
    other = build_model({**config["datasets"]["mine"]["arch"], "kwargs": {"n_classes": 10, "width": 4}},
                        (3, 8, 8), 10)
    torch.save(other.state_dict(), tmp_path / "other.pt")
    config["datasets"]["mine"]["original"] = {"weights": str(tmp_path / "other.pt")}
    message = config_error(config)
    assert message.startswith(f"datasets.mine.original.weights: {tmp_path / 'other.pt'}: weights do not match")
    config["datasets"]["mine"]["original"] = {"weights": str(tmp_path / "none.pt")}
    assert "none.pt: model file not found" in config_error(config)


def test_arrays_in_config(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mine.npz", x_train=rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8),
             y_train=np.arange(40) % 10, x_test=rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8),
             y_test=np.arange(10))
    config = own_config(tmp_path, loader="arrays", root=str(tmp_path / "mine.npz"))
    validate_schema(config, SCHEMA)
    check_semantics(config)
    np.savez(tmp_path / "mine.npz", x_train=np.zeros((40, 8, 8, 3), np.uint8), y_train=np.arange(40) % 10,
             x_test=np.zeros((10, 8, 8, 3), np.uint8), y_test=np.arange(10) + 2)  # labels 2..11: 12 classes
    assert "the model outputs (2, 10)" in config_error(config) and "expected logits (2, 12)" in config_error(config)
    np.savez(tmp_path / "mine.npz", x_train=np.zeros((40, 8, 8, 3), np.uint8), y_train=np.arange(40) % 10)
    assert config_error(config) == (f"datasets.mine.root: {tmp_path / 'mine.npz'}: missing arrays "
                                    "['x_test', 'y_test']; found ['x_train', 'y_train']")


def test_unknown_loader_option(tmp_path):
    config = own_config(tmp_path, options={"colour": True})
    message = config_error(config)
    assert message == ("datasets.mine.options: unknown option(s) colour for loader imagefolder; "
                       "allowed: grayscale, resample, size, workers")


def test_example_data_command_writes_the_same_folder_every_time(tmp_path):
    """`python -m guided_retraining.example_data` (docs/own-model.md): the imagefolder layout, seeded pixels."""
    from guided_retraining.example_data import main

    main([str(tmp_path / "a"), "--per-class", "5"])
    main([str(tmp_path / "b"), "--per-class", "5"])
    files = sorted(f.relative_to(tmp_path / "a") for f in (tmp_path / "a").rglob("*.png"))
    assert [str(f) for f in files if f.parts[1] == "circle"] == [
        "test/circle/0004.png", "train/circle/0000.png", "train/circle/0001.png", "train/circle/0002.png",
        "train/circle/0003.png"]
    assert len(files) == 20
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    image = Image.open(tmp_path / "a/train/square/0000.png")
    assert image.size == (32, 32) and image.mode == "RGB"
    raw = datasets.LOADERS["imagefolder"].read(tmp_path / "a")
    assert raw.x_train.shape == (16, 3, 32, 32) and raw.x_test.shape == (4, 3, 32, 32)


# ---- the whole tiny study end to end ---------------------------------------------------------------------

@pytest.mark.workflow
def test_whole_study_on_own_model_and_image_folder(tmp_path):
    """Every stage, four metrics (a named conv layer, last_hidden, softmax, MC dropout), C1-C3, the defences,
    on the test's model module and a digits image folder; then the same study from given weights."""
    config = own_config(tmp_path)
    config["datasets"]["mine"]["split"] = {"mode": "merged", "fractions": [0.6, 0.2, 0.2]}
    config["retrain"] = {"data_points": 2, "train": {"epochs": 1}}
    config["configurations"] = ["C1", "C2", "C3"]
    config["aggregate"] = {"budgets": [0.5]}  # one fixed budget (the default four would add 60 retrain jobs)
    config["metrics"]["mc_dropout"] = {"n_samples": 10}  # reads the model itself: its nn.Dropout, now seeded
    config["defences"] = {"guided_attack": "fgsm", "attacks": {"none": {"kind": "none"},
                                                               "pgd": {"kind": "pgd", "eps": 0.1, "steps": 3}}}
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(tmp_path, "--cores", "2", configfile=tmp_path / "own.yaml")
    data = json.loads((tmp_path / "results/mine/data.json").read_text())
    res = tmp_path / "results/mine/r1"
    assert data["classes"] == [f"d{k}" for k in range(10)] and data["shape"] == [3, 8, 8]
    assert sum(data["counts"].values()) == 300
    acts = np.load(res / "fgsm/activations/classifier.4.input.npz")["acts"]
    assert acts.shape == (180 + 20, 32)
    assert np.load(res / "fgsm/activations/features.4.npz")["acts"].shape == (200, 16)
    variation = np.load(res / "fgsm/scores/mc_dropout.npz")["scores"]
    assert variation.shape == (200,) and (variation > 0).any()  # the swapped-in dropout is on in MC passes
    state = torch.load(res / "original/model.pt", weights_only=True)

    assert "classifier.4.weight" in state  # the user's own state dict: it loads back into their code
    summary = json.loads((res / "original/train.json").read_text())
    assert summary["weights"] is None and len(summary["losses"]) == 15
    assert summary["acc_test"] > 0.5  # ten digits: far above chance
    for table in ("table3", "table4", "table5", "defences"):
        assert (tmp_path / f"results/tables/{table}.csv").stat().st_size > 0

    # given weights: train_original loads them (no training) and the study runs from them
    second = tmp_path / "second"
    second.mkdir()
    shutil.copy(res / "original/model.pt", second / "weights.pt")
    config["datasets"]["mine"]["original"] = {"weights": "weights.pt"}
    config.pop("defences")
    (second / "own.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    snakemake(second, "--cores", "2", "results/mine/r1/fgsm/attack.json", configfile=second / "own.yaml")
    loaded = json.loads((second / "results/mine/r1/original/train.json").read_text())
    assert "losses" not in loaded and loaded["weights"] == "weights.pt"  # loaded, not trained
    assert loaded["acc_test"] == summary["acc_test"]
    attack_a = json.loads((res / "fgsm/attack.json").read_text())
    attack_b = json.loads((second / "results/mine/r1/fgsm/attack.json").read_text())
    assert attack_a["adv_test"] == attack_b["adv_test"]


@pytest.mark.workflow
def test_worked_example(tmp_path):
    """config/example-own-model.yaml (the small ResNet of config/example_model.py) on the colour folder that
    the documented command writes (docs/own-model.md; its wall time: benchmarks/own_model_example.py)."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config/example_model.py", tmp_path / "config")
    proc = subprocess.run([sys.executable, "-m", "guided_retraining.example_data"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "wrote 240 images of circle, cross, square, triangle to data/shapes/train and data/shapes/test"
    classes = ["circle", "cross", "square", "triangle"]
    snakemake(tmp_path, "--cores", "2", configfile=REPO / "config/example-own-model.yaml")
    data = json.loads((tmp_path / "results/shapes/data.json").read_text())
    assert data["classes"] == classes and data["shape"] == [3, 32, 32]
    assert data["counts"] == {"train": 154, "val": 38, "test": 48}
    original = json.loads((tmp_path / "results/shapes/r1/original/train.json").read_text())
    assert original["acc_test"] > 0.5  # four classes: well above chance
    assert (tmp_path / "results/tables/table3.csv").exists() and (tmp_path / "results/tables/defences.csv").exists()
