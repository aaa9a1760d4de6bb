"""A catalogue of bad inputs: each stops with one clear line naming what is wrong, before any work
(config) or in the job that reads it (files), and leaves nothing a later step would accept."""

import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import CONFIGS, REPO, snakemake, write_config

from guided_retraining.config import check_semantics, validate_schema
from guided_retraining.datasets.prepared import load_adversarial, load_prepared
from guided_retraining.errors import ConfigError, DataError
from guided_retraining.io import load_npz, load_state_dict, save_npz
from guided_retraining.models import build_model

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def tiny():
    return yaml.safe_load((CONFIGS / "tiny.yaml").read_text())


BAD_CONFIGS = [
    # (change, words the one-line message must contain)
    (lambda c: c["aggregate"].update(budgets=[0.1, 1.5]), ["aggregate.budgets.1", "(0, 1]", "1.5"]),
    (lambda c: c["aggregate"].update(budgets=[0]), ["aggregate.budgets.0", "at least 1"]),
    (lambda c: c["aggregate"].update(budgets=[0.25, 0.25]), ["aggregate.budgets.1", "repeats aggregate.budgets.0"]),
    (lambda c: c["aggregate"].update(budgets=[121]), ["aggregate.budgets.0", "121", "C3", "120"]),
    (lambda c: (c.update(configurations=["C1"]), c["aggregate"].update(budgets=[0.5, 5000])),
     ["aggregate.budgets.1", "5000", "C1", "digits"]),
    (lambda c: c["aggregate"].update(budgets=["half"]), ["aggregate.budgets.0", "'half'"]),
    (lambda c: c["datasets"]["digits"].update(loader="svhn"), ["datasets.digits.loader", "'svhn'", "mnist"]),
    (lambda c: c["metrics"].update(foo={"kind": "bogus"}), ["metrics.foo.kind", "'bogus'", "deepgini"]),
    (lambda c: c.update(configurations=["C4"]), ["configurations.0", "'C4'", "C1"]),
    (lambda c: c["attacks"]["fgsm"].update(eps=0), ["attacks.fgsm.eps", "0", "> 0"]),
    (lambda c: c["attacks"]["fgsm"].update(eps=1.5), ["attacks.fgsm.eps", "1.5", "<= 1"]),
    (lambda c: c["attacks"]["fgsm"].update(kind="pgd2"), ["attacks.fgsm.kind", "'pgd2'", "fgsm"]),
    (lambda c: c["retrain"].update(data_points=0), ["retrain.data_points", "0", ">= 1"]),
    (lambda c: c["datasets"]["digits"]["train"].update(epochs=-1), ["datasets.digits.train.epochs", "-1"]),
    (lambda c: c["datasets"]["digits"].update(adv_train_size="many"), ["datasets.digits.adv_train_size", "'many'"]),
    (lambda c: c.update(epochs=3), ["unknown key", "'epochs'", "allowed"]),
    (lambda c: c["datasets"]["digits"]["train"].update(epoch=3), ["datasets.digits.train", "'epoch'"]),
    (lambda c: c["datasets"]["digits"]["split"].update(fractions=[0.5, 0.2, 0.2]), ["split.fractions", "sum to 1"]),
    (lambda c: c["metrics"]["lsa"].update(layers=["conv9"]), ["metrics.lsa.layers", "'conv9'", "dense1"]),
    (lambda c: c["datasets"]["digits"]["split"].update(pool=["val"]), ["split.pool.0", "'val'", "train"]),
    (lambda c: c["datasets"]["digits"]["split"].update(mode="original", pool=["train"]),
     ["datasets.digits.split.pool", "merged only"]),
    (lambda c: c["datasets"]["digits"]["split"].update(mode="original", sizes=[1, 1, 1]),
     ["datasets.digits.split.sizes", "mode original", "0 official test images"]),
    (lambda c: c["datasets"]["digits"]["train"].update(init="glorot"), ["train.init", "'glorot'", "keras"]),
    (lambda c: c["datasets"]["digits"]["train"].update(augment="mixup"), ["train.augment", "'mixup'", "crop_flip"]),
    (lambda c: c["attacks"]["fgsm"].update(adv_test={"kind": "fgsm", "eps": 2}), ["attacks.fgsm.adv_test"]),
    (lambda c: c["attacks"]["fgsm"].update(adv_test={"kind": "fgsm", "steps": 3}), ["attacks.fgsm.adv_test", "steps"]),
    (lambda c: c["metrics"]["dsa"].update(reference="test"), ["reference", "'test'", "validation"]),
    (lambda c: c["metrics"]["nc"].update(treshold=0.5), ["metrics.nc", "treshold", "threshold"]),
    # metric options: type, range, choice, missing layers, another kind's option, device (issue 14)
    (lambda c: c["metrics"]["nc"].update(threshold="high"), ["metrics.nc.threshold", "'high'", "number"]),
    (lambda c: c["metrics"]["nc"].update(threshold=1.5), ["metrics.nc.threshold: expected a number in [0, 1], got 1.5"]),
    (lambda c: c["metrics"]["lsa"].update(var_filter="both"), ["metrics.lsa.var_filter", "'union'", "'both'"]),
    (lambda c: c["metrics"]["lsa"].update(memory_mb=0), ["metrics.lsa.memory_mb", "> 0", "got 0"]),
    (lambda c: c["metrics"]["dsa"].update(exclude_self="yes"), ["metrics.dsa.exclude_self", "'yes'", "boolean"]),
    (lambda c: c["metrics"]["dsa"].update(device="gpu"), ["metrics.dsa.device", "'cuda'", "'gpu'"]),
    (lambda c: c["metrics"]["dsa"].pop("layers"), ["metrics.dsa.layers", "a list of layer names", "None"]),
    (lambda c: c["metrics"].update(kmnc={"layers": ["last_hidden"], "k": 0}), ["metrics.kmnc.k", "integer >= 1"]),
    (lambda c: c["metrics"].update(d={"kind": "datis", "layers": ["last_hidden"], "temperature": 0}),
     ["metrics.d.temperature", "> 0"]),
    (lambda c: c["metrics"].update(nns={"layers": ["last_hidden"], "alpha": -0.5}), ["metrics.nns.alpha", "[0, 1]"]),
    (lambda c: c["metrics"]["nc"].update(k=5), ["metrics.nc", "'k' for nc", "allowed: kind, layers"]),
    (lambda c: c["datasets"].update(mnist={**c["datasets"]["digits"], "loader": "mnist", "root": "/nonexistent",
                                           "arch": "mnist_cnn"}), ["mnist", "/nonexistent", "datasets.mnist.root"]),
    (lambda c: c.update(repetitions=0), ["repetitions", "0", ">= 1"]),
    (lambda c: c.update(aggregate={"select_on": "train"}), ["aggregate.select_on", "'train'", "validation"]),
    (lambda c: c["datasets"]["digits"]["split"].update(per_repetition="yes"), ["split.per_repetition", "'yes'"]),
    # attack settings, per kind, before any job (issue 14): unknown keys, types, ranges
    (lambda c: c["attacks"].update(bim={"kind": "bim", "eps": 0.05, "stpes": 5}),
     ["attacks.bim", "stpes", "allowed", "steps"]),
    (lambda c: c["attacks"].update(pgd={"kind": "pgd", "random_start": "yes"}),
     ["attacks.pgd.random_start", "true or false", "'yes'"]),
    (lambda c: c["attacks"].update(df={"kind": "deepfool", "overshoot": "big"}),
     ["attacks.df.overshoot", "a number", "'big'"]),
    (lambda c: c["attacks"].update(df={"kind": "deepfool", "overshoot": -0.1}),
     ["attacks.df", "overshoot must be >= 0"]),
    (lambda c: c["attacks"].update(cw={"kind": "cw", "lr": 0.0}), ["attacks.cw", "lr must be > 0"]),
    (lambda c: c["attacks"].update(fgsm2={"kind": "fgsm", "steps": 3}), ["attacks.fgsm2", "steps", "allowed: eps"]),
    # seed 003 (DeepCustom): dgn settings, datasets with a generator network, the matrix's attacks
    (lambda c: c["attacks"].update(d={"kind": "dgn", "loss": "lrpp"}), ["attacks.d", "loss must be one of", "'lrpp'"]),
    (lambda c: c["attacks"].update(d={"kind": "dgn", "custom_loss_constant": 2}), ["attacks.d", "custom_loss_constant"]),
    (lambda c: c["attacks"].update(d={"kind": "dgn", "eps": 0.1}), ["attacks.d", "eps", "allowed", "epsilon"]),
    (lambda c: c["attacks"].update(d={"kind": "dgn"}), ["datasets.digits.loader", "no DGN generator network", "mnist"]),
    (lambda c: c.update(deepcustom={"robust": ["pgd"]}), ["deepcustom.robust", "'pgd'", "fgsm"]),
    (lambda c: c.update(deepcustom={"whitebox": True}), ["deepcustom.whitebox", "deepcustom.robust"]),
    (lambda c: c.update(deepcustom={"robust": ["fgsm"], "train": {"augment": "crop_flip"}}),
     ["deepcustom.train.augment", "stored", "on_the_fly"]),
    (lambda c: c.update(deepcustom={"robust": ["fgsm"], "train": {"decay_rate": 0.9}}),
     ["deepcustom.train", "decay_step"]),
    (lambda c: c["attacks"].update(d={"kind": "dgn", "loss": "lrp", "coverage_weight": 0.5}),
     ["attacks.d", "coverage_weight applies to loss nce only"]),
    (lambda c: c.update(defences={"guided_attack": "fgsm", "attacks": {"g": {"kind": "dgn"}}}),
     ["defences.attacks.g.kind", "dgn", "deepcustom.robust"]),
    # sizes the job would reject after training
    (lambda c: c["datasets"]["digits"].update(adv_train_size=5000),
     ["datasets.digits.adv_train_size", "5000", "exceeds", "training inputs"]),
    (lambda c: c["datasets"]["digits"]["split"].update(fractions=[0.8, 0.2, 0.0]),
     ["datasets.digits.split", "no test inputs"]),
]


@pytest.mark.parametrize("change,words", BAD_CONFIGS)
def test_bad_config_is_named_in_one_line(change, words):
    config = tiny()
    change(config)
    with pytest.raises((ConfigError, DataError)) as info:
        validate_schema(config, SCHEMA)
        check_semantics(config)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_bad_config_stops_snakemake_before_any_job(tmp_path):
    config = write_config(tmp_path / "bad.yaml", lambda c: c["attacks"]["fgsm"].update(eps=2))
    proc = snakemake(tmp_path, "--cores", "1", configfile=config, check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "config error" in line]
    assert lines == ["guided-retraining: config error: attacks.fgsm.eps: 2 is out of range; expected a value <= 1"]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


@pytest.fixture()
def data(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {f"x_{p}": rng.random((n, 1, 8, 8), dtype=np.float32) for p, n in (("train", 20), ("val", 5), ("test", 6))}
    arrays.update({f"y_{p}": rng.integers(0, 10, n) for p, n in (("train", 20), ("val", 5), ("test", 6))})
    return arrays


def test_truncated_npz(tmp_path, data):
    save_npz(tmp_path / "data.npz", **data)
    blob = (tmp_path / "data.npz").read_bytes()
    (tmp_path / "data.npz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"data.npz: corrupt or truncated"):
        load_prepared(tmp_path / "data.npz")


def test_nan_and_out_of_range_pixels(tmp_path, data):
    data["x_test"][0, 0, 0, 0] = np.nan
    save_npz(tmp_path / "nan.npz", **data)
    with pytest.raises(DataError, match=r"nan.npz: test images: 1 pixels are NaN"):
        load_prepared(tmp_path / "nan.npz")
    data["x_test"][0, 0, 0, 0] = 1.5
    save_npz(tmp_path / "range.npz", **data)
    with pytest.raises(DataError, match=r"pixels must lie in \[0, 1\]"):
        load_prepared(tmp_path / "range.npz")


def test_adversarial_file_of_another_dataset(tmp_path, data):
    save_npz(tmp_path / "data.npz", **data)
    save_npz(tmp_path / "adv.npz", x_adv_train=np.zeros((3, 1, 28, 28), np.float32), y_adv_train=np.zeros(3, int),
             idx_adv_train=np.arange(3), x_adv_val=np.zeros((len(data["y_val"]), 1, 28, 28), np.float32),
             y_adv_val=np.zeros(len(data["y_val"]), int), x_adv_test=np.zeros((6, 1, 28, 28), np.float32),
             y_adv_test=np.zeros(6, int))
    with pytest.raises(DataError, match="adversarial images of shape"):
        load_adversarial(tmp_path / "adv.npz", load_prepared(tmp_path / "data.npz"))


def test_model_of_another_architecture(tmp_path):
    import torch

    torch.save(build_model("mnist_cnn", (1, 28, 28), 10).state_dict(), tmp_path / "model.pt")
    with pytest.raises(DataError, match="model.pt: weights do not match architecture"):
        load_state_dict(tmp_path / "model.pt", build_model("digits_cnn", (1, 8, 8), 10))


class Payload:
    target = "/nonexistent"

    def __reduce__(self):  # unpickling this creates a file: running code
        return (open, (self.target, "w"))


def test_pickles_are_refused_and_do_not_run(tmp_path):
    called = tmp_path / "ran"
    Payload.target = str(called)

    with open(tmp_path / "model.pt", "wb") as fh:
        pickle.dump({"conv1.conv.weight": Payload()}, fh)
    with pytest.raises(DataError, match="weights_only=True"):
        load_state_dict(tmp_path / "model.pt", build_model("digits_cnn", (1, 8, 8), 10))
    np.save(tmp_path / "obj.npy", np.array([Payload()], dtype=object), allow_pickle=True)
    with open(tmp_path / "obj.npy", "rb") as fh:
        body = fh.read()
    import zipfile

    with zipfile.ZipFile(tmp_path / "scores.npz", "w") as zf:
        zf.writestr("scores.npy", body)
    with pytest.raises(DataError, match="refusing to load pickled objects"):
        load_npz(tmp_path / "scores.npz")
    assert not called.exists()


def test_corrupt_intermediate_stops_its_job_and_leaves_no_output(tiny_run, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tiny_run, work, ignore=shutil.ignore_patterns(".snakemake"))
    order = work / "results/digits/r1/fgsm/orders/dsa.npz"
    scores = np.load(order)
    save_npz(order, order=scores["order"][:-5], n_train=scores["n_train"])  # a score/order of the wrong length
    target = work / "results/digits/r1/fgsm/retrain/C2/dsa/p2.json"
    target.unlink()
    proc = subprocess.run([sys.executable, str(REPO / "scripts/retrain.py"), str(target.relative_to(work)),
                           "--configfile", "tiny.yaml"], cwd=work, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "dsa.npz: order of 1372 inputs is not a permutation of the 1377 inputs of Train*" in proc.stderr
    assert not target.exists() and not list(target.parent.glob(".p2.json*"))


def test_corrupt_data_is_one_line_in_the_job_log_and_the_output(tmp_path):
    """A truncated MNIST .gz (issue 22, item 15): the prepare job stops with the loader's line; the job log that
    the profile's show-failed-logs prints holds that line and no traceback, and nothing is written."""
    from fixtures_datasets import write_idx_dataset

    root = tmp_path / "mnist"
    write_idx_dataset(root, n_train=60, n_test=20)
    gz = root / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:200])

    def change(c):
        c["datasets"] = {"mnist": {"loader": "mnist", "root": str(root), "arch": "mnist_cnn",
                                   "train": {"epochs": 1, "batch_size": 16}, "adv_train_size": 10}}

    proc = snakemake(tmp_path, "--cores", "1", configfile=write_config(tmp_path / "c.yaml", change), check=False)
    output = proc.stdout + proc.stderr
    line = (f"DataError: mnist: {gz}: cannot read (EOFError: Compressed file ended before the end-of-stream marker"
            f" was reached)")
    assert proc.returncode == 1
    assert "Error in rule prepare" in output and line in output
    assert "Traceback" not in output
    log = (tmp_path / "results/logs/mnist/prepare.log").read_text()
    assert [entry.split(" ", 2)[2] for entry in log.splitlines()][1] == f"ERROR {line}"
    assert "Traceback" not in log and len(log.splitlines()) == 3  # rule, the error, done in
    assert not (tmp_path / "results/mnist/data.npz").exists()


def test_an_unexpected_error_keeps_its_traceback_in_the_job_log(tmp_path):
    from types import SimpleNamespace

    from guided_retraining.runner import execute

    def job(name):
        return SimpleNamespace(rule=name, log=[str(tmp_path / f"{name}.log")], output=[], threads=1,
                               params=SimpleNamespace(), wildcards=SimpleNamespace(items=lambda: []))

    def bug(job, log):
        return [][1]

    def bad_data(job, log):
        raise DataError("x.npz: corrupt or truncated")

    with pytest.raises(IndexError):
        execute(bug, job("bug"))
    assert "Traceback (most recent call last)" in (tmp_path / "bug.log").read_text()
    with pytest.raises(DataError) as info:
        execute(bad_data, job("bad"))
    assert "ERROR DataError: x.npz: corrupt or truncated\n" in (tmp_path / "bad.log").read_text()
    assert "Traceback" not in (tmp_path / "bad.log").read_text()
    assert info.value.__cause__ is None
    assert info.traceback[-1].name == "execute"  # re-raised from execute without the frames below it


def test_an_operation_without_a_deterministic_kernel_is_a_one_line_config_error(tmp_path):
    """torch's refusal under use_deterministic_algorithms (seen on CUDA, e.g. the backward of
    AdaptiveAvgPool2d in a user's model) names the `deterministic` key and the way out, without a traceback;
    any other RuntimeError is left as it is."""
    from types import SimpleNamespace

    from guided_retraining.runner import execute

    job = SimpleNamespace(rule="retrain", log=[str(tmp_path / "retrain.log")], output=[], threads=1,
                          params=SimpleNamespace(), wildcards=SimpleNamespace(items=lambda: []))
    refusal = ("adaptive_avg_pool2d_backward_cuda does not have a deterministic implementation, but you set"
               " 'torch.use_deterministic_algorithms(True)'. You can turn off determinism just for this operation,"
               " or you can use the 'warn_only=True' option, if that's acceptable for your application. You can"
               " also file an issue at https://github.com/pytorch/pytorch/issues to help us prioritize adding"
               " deterministic support for this operation.")

    def refused(job, log):
        raise RuntimeError(refusal)

    with pytest.raises(ConfigError) as info:
        execute(refused, job)
    assert str(info.value) == ("deterministic: true, but torch has no deterministic kernel for"
                               " adaptive_avg_pool2d_backward_cuda, an operation of this job; set deterministic:"
                               " false to run it (identical GPU runs may then differ)")
    assert "Traceback" not in (tmp_path / "retrain.log").read_text()

    def other(job, log):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        execute(other, job)
