"""A short workflow run on a real MNIST subset: the original model is accurate and FGSM lowers it."""

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import REPO, snakemake

pytestmark = pytest.mark.workflow
MNIST = Path(os.environ.get("GR_SHARED_DIR", REPO.parent / "shared")) / "data" / "mnist"


@pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(), reason=f"official MNIST files not in {MNIST}")
def test_mnist_subset_original_accuracy_and_fgsm(tmp_path):
    config = yaml.safe_load((REPO / "config/mnist-small.yaml").read_text())
    config["datasets"]["mnist"]["root"] = str(MNIST)
    config["datasets"]["mnist"]["split"]["subset"] = 2000
    config["datasets"]["mnist"]["train"]["epochs"] = 6
    config["datasets"]["mnist"]["adv_train_size"] = 100
    config["results"] = "results"
    (tmp_path / "mnist.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "--cores", "2", "results/mnist/r1/fgsm/attack.json", configfile=tmp_path / "mnist.yaml")
    data = json.loads((tmp_path / "results/mnist/data.json").read_text())
    assert data["counts"] == {"train": 1399, "val": 400, "test": 201}
    attack = json.loads((tmp_path / "results/mnist/r1/fgsm/attack.json").read_text())
    assert attack["original_acc_test"] > 0.9, attack
    assert attack["original_acc_adv_test"] < attack["original_acc_test"] - 0.1, attack
    assert attack["adv_test"]["linf_max"] <= 0.1 + 1e-6
