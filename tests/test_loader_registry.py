"""The loader registry: one module and one ``Loader`` declaration per loader, and what derives from it
(options, shapes, class counts, sizes, whether DGN generators apply). The schema's loader enum against
the registry: tests/test_registries.py."""

import copy
import importlib
import pkgutil

import pytest
import yaml

from conftest import CONFIGS
from fixtures_datasets import write_idx_dataset

import guided_retraining.datasets as datasets
from guided_retraining.config import check_semantics
from guided_retraining.datasets import LOADERS, Loader, Size, load, prepared_sizes, signature
from guided_retraining.deepcustom.generators import GENERATORS
from guided_retraining.errors import ConfigError


def test_every_loader_module_declares_one_registered_loader():
    declared = {}
    for info in pkgutil.iter_modules(datasets.__path__):
        module = importlib.import_module(f"guided_retraining.datasets.{info.name}")
        if isinstance(getattr(module, "LOADER", None), Loader):
            declared[module.LOADER.name] = module.LOADER
    assert declared == LOADERS
    assert set(LOADERS) == {"digits", "mnist", "fashion_mnist", "cifar10", "gtsrb", "intel", "imagefolder", "arrays"}


def test_declarations_derive_options_sizes_and_classes():
    assert LOADERS["digits"].options == ()
    assert LOADERS["cifar10"].options == ("size", "grayscale", "resample", "verify")
    assert LOADERS["gtsrb"].options == ("size", "grayscale", "resample", "workers")
    assert [n for n, d in LOADERS.items() if d.own_data] == ["imagefolder", "arrays"]
    assert signature("digits") == ((1, 8, 8), 10, 1797)
    assert signature("gtsrb", options={"size": 32, "grayscale": False}) == ((3, 32, 32), 43, 51_839)
    assert signature("intel", options={"size": [20, 30]}) == ((1, 20, 30), 6, 17_034)
    # grayscale: false keeps colour only where the images have it: MNIST's stay single-channel
    assert signature("mnist", options={"grayscale": False}) == ((1, 28, 28), 10, 70_000)
    assert prepared_sizes("mnist", {}) == {"train": 48_999, "val": 14_000, "test": 7_001}
    assert prepared_sizes("arrays", {}) is None
    raw = load("digits")
    assert (raw.x_train.shape[1:], raw.n_classes, len(raw.x_train)) == signature("digits")


def test_mnist_signature_is_the_loaded_shape(tmp_path):
    write_idx_dataset(tmp_path / "MNIST" / "raw")
    for options in ({}, {"grayscale": False}, {"size": 14}):
        raw = load("mnist", tmp_path, **options)
        assert raw.x_train.shape[1:] == signature("mnist", tmp_path, options)[0], options


def test_a_declaration_gives_sizes_or_reads_them_from_the_data():
    read = LOADERS["digits"].read
    with pytest.raises(ValueError, match="declare size and n_classes"):
        Loader("x", "", read, lambda root: None)
    with pytest.raises(ValueError, match="declare size and n_classes"):
        Loader("x", "", read, lambda root: None, Size(1, 0, (1, 8, 8)), 10, signature=lambda root: None)
    with pytest.raises(ValueError, match="declare size and n_classes"):
        Loader("x", "", read, lambda root: None, Size(1, 0, (1, 8, 8)))


def _dgn_config(loader: str, options: dict | None = None) -> dict:
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    ds = copy.deepcopy(config["datasets"].pop("digits"))
    arch = "cifar_deepcustom" if loader == "cifar10" else "mnist_cnn"
    config["datasets"]["d"] = {**ds, "loader": loader, "arch": arch, "options": options or {}}
    config["attacks"]["g"] = {"kind": "dgn"}
    return config


def test_dgn_applies_where_declared_and_the_images_fit_a_generator():
    """The loader's declaration and the generators' own shape table decide it, up front (a shape no
    generator takes used to pass the check and stop the attack job)."""
    for loader, options in (("mnist", {}), ("fashion_mnist", {}), ("cifar10", {"grayscale": False})):
        check_semantics(_dgn_config(loader, options), check_data=False)
        assert signature(loader, options=options)[0] in GENERATORS
    bad = [(("gtsrb", {"size": 28}), "datasets.d.loader: 'gtsrb' has no DGN generator network (attacks g need generators);"
                                     " use mnist, fashion_mnist, cifar10"),
           (("cifar10", {}), "datasets.d.options.grayscale: the DGN generator networks take images of shape"
                             " (1, 28, 28) or (3, 32, 32), dataset d gives (1, 32, 32) (attacks g need generators);"
                             " set grayscale: false"),
           (("mnist", {"size": 32}), "datasets.d.options: the DGN generator networks take images of shape"
                                     " (1, 28, 28) or (3, 32, 32), dataset d gives (1, 32, 32)")]
    for (loader, options), message in bad:
        with pytest.raises(ConfigError) as info:
            check_semantics(_dgn_config(loader, options), check_data=False)
        assert str(info.value).startswith(message), str(info.value)
