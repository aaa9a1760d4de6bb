"""Seed 003 (DeepCustom): target architectures, Tarantula, DGN generators as an attack, the workflow rules."""

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from conftest import REPO, dry_run_jobs, snakemake
from fixtures_datasets import shared_dir, write_cifar10
from guided_retraining.attacks import make_attack
from guided_retraining.deepcustom import suspiciousness as S
from guided_retraining.deepcustom.generators import build_generator, generate, project
from guided_retraining.models import build_model
from guided_retraining.models.layers import Dense
from guided_retraining.training import TrainSettings, accuracy, train

MNIST = shared_dir() / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST.is_dir(), reason=f"real MNIST not found in {MNIST}")


def n_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_seed003_target_architectures_have_the_seed_parameter_counts():
    assert n_params(build_model("mnist_dense5x30", (1, 28, 28), 10)) == 27_580
    cifar = build_model("cifar_deepcustom", (3, 32, 32), 10)
    assert n_params(cifar) == 122_570
    assert cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_tarantula_on_a_hand_made_spectrum():
    # F = 2 failing, S = 4 passing inputs; neuron 0: (2/2) / (2/2 + 1/4) = 0.8; neuron 1 never active on
    # failing inputs: 0; neuron 2 active only on failing ones: 1; neuron 3 never active: 0 (undefined).
    scores = S.tarantula(a_f=[2, 0, 1, 0], a_s=[1, 3, 0, 0], n_fail=2, n_pass=4)
    np.testing.assert_allclose(scores, [0.8, 0.0, 1.0, 0.0])
    assert S.tarantula([1], [1], n_fail=0, n_pass=3).tolist() == [0.0]


def test_hit_spectra_count_active_neurons_over_passing_and_failing_inputs():
    # dense1 = ReLU(x) (identity weights), logits = dense1: the prediction is the larger input.
    model = nn.Sequential(OrderedDict(flatten=nn.Flatten(), dense1=Dense(2, 2), logits=Dense(2, 2, relu=False)))
    with torch.no_grad():
        for layer in (model.dense1, model.logits):
            layer.linear.weight.copy_(torch.eye(2))
            layer.linear.bias.zero_()
    x = np.array([[2, 1], [3, -1], [1, 2], [-1, -2], [0.5, 0.2]], np.float32).reshape(5, 1, 1, 2)
    y = np.array([0, 0, 0, 0, 1])  # passing: inputs 0, 1, 3 (argmax 0); failing: 2 and 4 (class 0 and 1)
    spectra = S.hit_spectra(model, x, y, n_classes=2, layers=["dense1"])
    assert spectra["n_pass"].tolist() == [3, 0] and spectra["n_fail"].tolist() == [1, 1]
    # class 0: passing inputs 0, 1, 3 -> unit 0 active on 0 and 1, unit 1 on 0; failing input 2: both active
    assert spectra["a_s"]["dense1"].tolist() == [[2, 1], [0, 0]]
    assert spectra["a_f"]["dense1"].tolist() == [[1, 1], [1, 1]]
    scores = S.unit_scores(spectra)["dense1"]
    np.testing.assert_allclose(scores[0], [1 / (1 + 2 / 3), 1 / (1 + 1 / 3)])  # (a_f/F) / (a_f/F + a_s/S)
    assert S.most_suspicious({"dense1": scores}, 0, k=1) == [("dense1", 1, pytest.approx(0.75))]


def test_conv_feature_map_score_is_the_mean_of_its_neurons():
    spectra = {"layers": ["conv1"], "n_pass": np.array([2]), "n_fail": np.array([1]),
               "a_s": {"conv1": np.array([[[[0, 2]], [[1, 1]]]])}, "a_f": {"conv1": np.array([[[[1, 1]], [[0, 0]]]])}}
    # map 0: neurons (1/1)/(1/1 + 0) = 1 and (1)/(1 + 1) = 0.5 -> 0.75; map 1: 0
    np.testing.assert_allclose(S.unit_scores(spectra)["conv1"], [[0.75, 0.0]])


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_generated_inputs_stay_within_epsilon_and_the_unit_interval(shape):
    gen = torch.Generator().manual_seed(0)
    nets = [build_generator(shape, seed=c) for c in range(3)]
    x = torch.rand((12, *shape), generator=gen)
    y = torch.arange(12) % 3
    out = generate(nets, x, y, epsilon=0.05)
    assert out.shape == x.shape
    assert float((out - x).abs().max()) <= 0.05 + 1e-6
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    # projection by hand: far above -> x + eps, far below -> x - eps, inside -> kept
    xs = torch.tensor([0.5, 0.5, 0.5, 0.98])
    np.testing.assert_allclose(project(xs, torch.tensor([0.9, 0.1, 0.52, 1.5]), 0.05), [0.55, 0.45, 0.52, 1.0])


def test_dgn_settings_are_declared_and_checked():
    from guided_retraining.errors import ConfigError

    with pytest.raises(ConfigError, match="loss must be one of"):
        make_attack("dgn", loss="bogus")
    with pytest.raises(ConfigError, match="unknown setting"):
        make_attack("dgn", loss="lrp", eps=0.3)  # the dgn setting is epsilon (the seed's name)
    assert make_attack("dgn", seed=3, loss="nce").settings["seed"] == 3
    # the settings are one DGNSettings: its fields are the allowed settings, typed and checked as the config's
    from guided_retraining.attacks import DGN
    from guided_retraining.deepcustom.generators import DGNSettings

    with pytest.raises(ConfigError, match="epochs: expected an integer"):
        make_attack("dgn", epochs=1.5)
    with pytest.raises(ConfigError, match="custom_loss_constant must be in"):
        make_attack("dgn", custom_loss_constant=2)
    attack = make_attack("dgn", seed=3, loss="nce", epsilon=1)
    assert attack.config == DGNSettings(loss="nce", epsilon=1.0, seed=3)
    assert type(attack.settings["epsilon"]) is float and attack.settings["epochs"] == 150
    assert list(attack.settings) == DGN.allowed_settings() == [f for f in DGNSettings.__dataclass_fields__]


@needs_mnist
def test_a_dgn_lowers_the_target_models_accuracy_on_real_mnist():
    from guided_retraining import datasets

    torch.set_num_threads(1)
    raw = datasets.load("mnist", str(MNIST))
    idx = np.random.default_rng(0).choice(len(raw.x_train), 2000, replace=False)
    x, y = raw.x_train[idx], raw.y_train[idx]
    xt, yt = raw.x_test[:500], raw.y_test[:500]
    target = build_model("mnist_dense5x30", (1, 28, 28), 10, seed=0)
    train(target, x, y, TrainSettings(epochs=10, batch_size=128, optimizer="adam"), seed=0)
    clean = accuracy(target, xt, yt)
    attack = make_attack("dgn", seed=1, loss="original", epsilon=0.3, epochs=1, batch_size=50, lr=1e-3)
    attack.fit(target, x, y, 10)
    result = attack.run(target, xt, yt)
    assert clean > 0.75
    assert accuracy(target, result.x_adv, yt) < clean - 0.4
    assert result.linf.max() <= 0.3 + 1e-6 and result.x_adv.min() >= 0 and result.x_adv.max() <= 1


@pytest.mark.parametrize("loss", ["original", "lrp", "nce", "suspiciousness"])
def test_cifar_generators_train_with_every_loss_on_a_cifar10_fixture(tmp_path, loss):
    """The CIFAR setup on a tiny dataset in the CIFAR-10 python layout: the CIFAR CNN target, the CIFAR DGN
    (LRP through Captum on a CNN, suspiciousness over conv feature maps and the dense layer)."""
    from guided_retraining import datasets

    write_cifar10(tmp_path, per_batch=4)
    raw = datasets.load("cifar10", str(tmp_path), verify=False, grayscale=False)  # fixture: not the official files
    x, y = raw.x_train, raw.y_train
    assert x.shape[1:] == (3, 32, 32)
    target = build_model("cifar_deepcustom", x.shape[1:], 10, seed=0)
    scores = S.unit_scores(S.hit_spectra(target, x, y, 10))
    assert set(scores) == {"conv1", "conv2", "conv3", "dense1"} and scores["conv2"].shape == (10, 64)
    attack = make_attack("dgn", seed=0, loss=loss, epsilon=0.0313, epochs=1, batch_size=4, k=5)
    losses = attack.fit(target, x, y, 10, suspicious_scores=scores)
    assert all(np.isfinite(l).all() for l in losses if l)
    result = attack.run(target, x, y)
    assert result.linf.max() <= 0.0313 + 1e-6 and result.x_adv.min() >= 0 and result.x_adv.max() <= 1


def test_cifar_config_plans_the_matrix(tmp_path):
    write_cifar10(tmp_path / "data" / "cifar10")  # the files a dry run checks for at the config's root (not read)
    jobs = dry_run_jobs(tmp_path, REPO / "config" / "deepcustom-cifar.yaml")
    rules = [r for r, _ in jobs]
    assert rules.count("train_dgn") == 4 and rules.count("deepcustom_robust") == 6
    assert rules.count("deepcustom_eval") == 7 * 6 and "suspiciousness" in rules


def dgn_config(path: Path, change=None) -> Path:
    config = {
        "seed": 0, "device": "cpu", "results": "results", "repetitions": 1,
        "datasets": {"mnist": {"loader": "mnist", "root": str(MNIST), "arch": "mnist_dense5x30",
                               "split": {"mode": "merged", "fractions": [0.7, 0.2, 0.1], "subset": 300},
                               "train": {"epochs": 2, "batch_size": 64, "optimizer": "adam"}, "adv_train_size": 20,
                               "allow_chance_original": True}},  # this test is about re-runs, not accuracy
        "attacks": {"fgsm": {"kind": "fgsm", "eps": 0.3},
                    "dgn_lrp": {"kind": "dgn", "loss": "lrp", "epsilon": 0.3, "epochs": 1, "batch_size": 20, "k": 10},
                    "dgn_s": {"kind": "dgn", "loss": "suspiciousness", "epochs": 1, "batch_size": 20, "k": 5}},
        "metrics": {"deepgini": {}}, "configurations": ["C3"], "retrain": {"data_points": 2, "train": {"epochs": 1}},
        "deepcustom": {"robust": ["dgn_lrp"], "train": {"epochs": 1}},
    }
    if change:
        change(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.mark.workflow
@needs_mnist
def test_generator_rule_is_not_rerun_when_only_a_metric_changes(tmp_path):
    config = dgn_config(tmp_path / "dgn.yaml")
    snakemake(tmp_path, "--cores", "2", "results/mnist/r1/dgn_lrp/generators.pt", "results/mnist/r1/dgn_s/generators.pt",
              configfile=config)
    assert (tmp_path / "results/mnist/r1/dgn_lrp/generators.json").is_file()

    def new_metric(c):
        c["metrics"]["softmax_entropy"] = {}

    jobs = dry_run_jobs(tmp_path, dgn_config(tmp_path / "metric.yaml", new_metric))
    rules = {r for r, _ in jobs}
    assert not rules & {"train_dgn", "suspiciousness", "train_original"}
    assert ("score", {"dataset": "mnist", "rep": "1", "attack": "dgn_lrp", "metric": "softmax_entropy"}) in jobs

    def new_epsilon(c):
        c["attacks"]["dgn_lrp"]["epsilon"] = 0.2

    jobs = dry_run_jobs(tmp_path, dgn_config(tmp_path / "eps.yaml", new_epsilon))
    assert [w for r, w in jobs if r == "train_dgn"] == [{"dataset": "mnist", "rep": "1", "attack": "dgn_lrp"}]


def tiny_conv_target():
    """conv1: 1x1 kernels, map 0 = x, map 1 = 2x; dense1 = the first pixel of map 0; logits 1 -> 2 (inputs 1x1x2)."""
    from guided_retraining.models.layers import Conv

    model = nn.Sequential(OrderedDict(conv1=Conv(1, 2, kernel_size=1, padding=0), flatten=nn.Flatten(),
                                      dense1=Dense(4, 1), logits=Dense(1, 2, relu=False)))
    with torch.no_grad():
        model.conv1.conv.weight.copy_(torch.tensor([1.0, 2.0]).reshape(2, 1, 1, 1))
        model.conv1.conv.bias.zero_()
        model.dense1.linear.weight.copy_(torch.tensor([[1.0, 0, 0, 0]]))
        model.dense1.linear.bias.zero_()
    return model.eval()


def suspicious_loss(target, layers, masks, reduction):
    from guided_retraining.deepcustom.generators import DGNLoss, DGNSettings

    settings = DGNSettings(loss="suspiciousness", epsilon=0.3, custom_loss_constant=1.0, suspicious_weight=0.5,
                           normal_weight=0.01, suspicious_reduction=reduction)
    return DGNLoss(settings, target, 0, layers, masks)


def test_suspiciousness_loss_reduces_as_the_seeds_code_on_a_conv_target():
    # d = z(x) - z(x'): conv1 map 0 (suspicious) [-1, 0] and [0, -2]; map 1 (normal) twice that; dense1 -1 and 0.
    # seed (its CIFAR code): maps' spatial means summed over the batch: L_susp = (-0.5 - 1) + (-1 + 0) = -2.5
    # (dense suspicious summed over the batch too), L_normal = 1 + 2 = 3 -> 0.5 * -2.5 + 0.01 * 3 = -1.22.
    # mean (the project's earlier reading): L_susp = mean(-0.5, -1) + mean(-1, 0) = -1.25, L_normal = 1.5 -> -0.61.
    target = tiny_conv_target()
    masks = {"conv1": np.array([[True, False]]), "dense1": np.array([[True]])}
    x = torch.tensor([[1.0, 2.0], [3.0, 1.0]]).reshape(2, 1, 1, 2)
    x_gen = torch.tensor([[2.0, 2.0], [3.0, 3.0]]).reshape(2, 1, 1, 2)
    layers = ["conv1", "dense1"]
    assert float(suspicious_loss(target, layers, masks, "seed")(x, x_gen).detach()) == pytest.approx(-1.22)
    assert float(suspicious_loss(target, layers, masks, "mean")(x, x_gen).detach()) == pytest.approx(-0.61)


def test_suspiciousness_loss_averages_over_the_batch_on_a_dense_target_as_the_seeds_mnist_code():
    # dense1 = x (identity): d = [[-1, 0], [0, -2]]; unit 0 suspicious: mean(-1, 0) = -0.5; unit 1: mean(0, 2) = 1
    model = nn.Sequential(OrderedDict(flatten=nn.Flatten(), dense1=Dense(2, 2), logits=Dense(2, 2, relu=False)))
    with torch.no_grad():
        model.dense1.linear.weight.copy_(torch.eye(2))
        model.dense1.linear.bias.zero_()
    x = torch.tensor([[1.0, 2.0], [3.0, 1.0]]).reshape(2, 1, 1, 2)
    x_gen = torch.tensor([[2.0, 2.0], [3.0, 3.0]]).reshape(2, 1, 1, 2)
    loss = suspicious_loss(model.eval(), ["dense1"], {"dense1": np.array([[True, False]])}, "seed")
    assert float(loss(x, x_gen).detach()) == pytest.approx(0.5 * -0.5 + 0.01 * 1)


def test_nce_loss_is_the_seeds_original_loss_unless_the_coverage_extension_is_asked_for():
    from guided_retraining.deepcustom.generators import DGNLoss, DGNSettings
    from guided_retraining.errors import ConfigError

    target = tiny_conv_target()
    layers = ["conv1", "dense1"]
    x = torch.tensor([[0.2, 0.4], [0.6, 0.1]]).reshape(2, 1, 1, 2)
    x_gen = torch.tensor([[0.3, 0.4], [0.5, 0.0]]).reshape(2, 1, 1, 2)
    original = float(DGNLoss(DGNSettings(loss="original"), target, 1, layers)(x, x_gen))
    assert float(DGNLoss(DGNSettings(loss="nce"), target, 1, layers)(x, x_gen).detach()) == pytest.approx(original)
    # coverage: mean sigmoid of the hidden pre-activations of x' (conv maps averaged over space):
    # map 0 means 0.35, 0.25; map 1 0.7, 0.5; dense1 0.3, 0.5
    units = torch.tensor([0.35, 0.7, 0.3, 0.25, 0.5, 0.5])
    coverage = float(torch.sigmoid(units).mean())
    extended = DGNLoss(DGNSettings(loss="nce", coverage_weight=0.2), target, 1, layers)
    assert float(extended(x, x_gen).detach()) == pytest.approx(original - 0.2 * coverage)
    with pytest.raises(ConfigError, match="coverage_weight applies to loss nce only"):
        make_attack("dgn", loss="lrp", coverage_weight=0.1)
    assert make_attack("dgn", loss="nce").settings["coverage_weight"] == 0.0


def test_staircase_learning_rate_decay_in_training():
    # loss = w + b: a constant gradient, so each Adam step moves a parameter by exactly the step's learning
    # rate. lr 0.1 halved every 2 steps, 6 steps: 0.1 + 0.1 + 0.05 + 0.05 + 0.025 + 0.025 = 0.35.
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
    x, y = np.zeros((6, 1), np.float32), np.zeros(6, np.int64)
    settings = TrainSettings(epochs=1, batch_size=1, optimizer="adam", lr=0.1, decay_step=2, decay_rate=0.5)
    train(model, x, y, settings, seed=0, batch_loss=lambda m, xb, yb: m.weight.sum() + m.bias.sum())
    assert float(model.weight.detach()) == pytest.approx(1.0 - 0.35, abs=1e-5)
    assert TrainSettings.from_config({"epochs": 1, "batch_size": 2, "decay_step": 117, "decay_rate": 0.9}).decay_step == 117


def test_shipped_configs_train_the_robust_models_with_the_seeds_decay():
    cifar = yaml.safe_load((REPO / "config" / "deepcustom-cifar.yaml").read_text())["deepcustom"]["train"]
    assert (cifar["decay_step"], cifar["decay_rate"]) == (1000, 0.9)  # the seed's adv_decay_step / adv_decay_rate
    mnist = yaml.safe_load((REPO / "config" / "deepcustom.yaml").read_text())
    train_cfg = mnist["deepcustom"]["train"]
    # reduced data: the seed's decay per epoch (1,000 steps of 600 an epoch) at 70 steps an epoch
    n_train = round(mnist["datasets"]["mnist"]["split"]["subset"] * 0.7)
    steps_per_epoch = n_train // train_cfg["batch_size"]
    assert train_cfg["decay_rate"] == 0.9 and train_cfg["decay_step"] == round(1000 * steps_per_epoch / 600)
    # the matrix in the seed's protocol: PGD is its "pgd_step20" (10 restarts x 20 steps), no white-box matrix
    assert mnist["attacks"]["pgd"]["restarts"] == 10 and mnist["attacks"]["pgd"]["steps"] == 20
    assert not mnist["deepcustom"].get("whitebox", False)
    assert "coverage_weight" not in mnist["attacks"]["dgn_nce"]  # the seed's NCE


def test_default_matrix_is_the_transfer_protocol_and_whitebox_is_an_option(tmp_path):
    def robust_fgsm(c):
        c["attacks"] = {"fgsm": c["attacks"]["fgsm"]}
        c["deepcustom"]["robust"] = ["fgsm"]

    jobs = dry_run_jobs(tmp_path, dgn_config(tmp_path / "t.yaml", robust_fgsm))
    evals = sorted((w["robust"], w["protocol"]) for r, w in jobs if r == "deepcustom_eval")
    assert evals == [("original", "transfer"), ("robust_fgsm", "transfer")]

    def also_whitebox(c):
        robust_fgsm(c)
        c["deepcustom"]["whitebox"] = True

    jobs = dry_run_jobs(tmp_path, dgn_config(tmp_path / "w.yaml", also_whitebox))
    evals = sorted((w["robust"], w["protocol"]) for r, w in jobs if r == "deepcustom_eval")
    assert evals == [("original", "transfer"), ("original", "whitebox"), ("robust_fgsm", "transfer"),
                     ("robust_fgsm", "whitebox")]


@pytest.mark.workflow
@needs_mnist
def test_transfer_matrix_evaluates_every_model_on_the_stored_adv_test(tmp_path):
    from guided_retraining.io import load_json, load_npz
    from guided_retraining.models import load_model

    def robust_fgsm(c):
        c["attacks"] = {"fgsm": c["attacks"]["fgsm"]}
        c["deepcustom"].update(robust=["fgsm"], whitebox=True)

    config = dgn_config(tmp_path / "t.yaml", robust_fgsm)
    snakemake(tmp_path, "--cores", "2", "results/tables/deepcustom.csv", configfile=config)
    base = tmp_path / "results/mnist/r1"
    stored = load_npz(base / "fgsm/adversarial.npz")
    original = load_json(base / "deepcustom/original/transfer_fgsm.json")
    assert original["protocol"] == "transfer"
    assert original["accuracy"] == pytest.approx(load_json(base / "fgsm/attack.json")["original_acc_adv_test"])
    robust = load_model(base / "deepcustom/robust_fgsm/model.pt", "mnist_dense5x30", (1, 28, 28), 10)
    transfer = load_json(base / "deepcustom/robust_fgsm/transfer_fgsm.json")["accuracy"]
    assert transfer == pytest.approx(accuracy(robust, stored["x_adv_test"], stored["y_adv_test"]))
    whitebox = load_json(base / "deepcustom/robust_fgsm/whitebox_fgsm.json")
    assert whitebox["protocol"] == "whitebox" and whitebox["attack_summary"] is not None
    assert (tmp_path / "results/tables/deepcustom_whitebox.md").is_file()
    assert "made once against the original model" in (tmp_path / "results/tables/deepcustom.md").read_text()


def deepcustom_doc() -> str:
    """docs/deepcustom.md, where the DeepCustom documentation lives."""
    return (REPO / "docs/deepcustom.md").read_text()


def test_docs_quote_config_deepcustom_values_from_the_config():
    """One source of truth: every row of docs/deepcustom.md's table of config/deepcustom.yaml values is the config's."""
    import re

    config = yaml.safe_load((REPO / "config" / "deepcustom.yaml").read_text())
    section = deepcustom_doc()
    table = section[section.index("| `config/deepcustom.yaml` key | value |"):]
    rows = re.findall(r"^\| `([\w.]+)` \| ([^|]+) \|", table, flags=re.M)
    assert len(rows) >= 10
    for key, quoted in rows:
        value = config
        for part in key.split("."):
            value = value[part]
        assert float(quoted.strip()) == float(value), f"docs/deepcustom.md quotes {key} = {quoted.strip()}, the config has {value}"
    # the config's other DGN attacks share the generator settings the table quotes for dgn_original
    for name in ("dgn_lrp", "dgn_nce", "dgn_suspiciousness"):
        assert {k: config["attacks"][name][k] for k in ("epochs", "batch_size", "lr")} == \
            {k: config["attacks"]["dgn_original"][k] for k in ("epochs", "batch_size", "lr")}


def test_generator_layer_shapes_follow_the_public_code_and_the_docs_state_them():
    from guided_retraining.deepcustom.generators import layer_shapes

    mnist = [(r["layer"], r["kernel"], r["stride"], r["output"]) for r in layer_shapes((1, 28, 28))
             if r["layer"] == "transposed conv"]
    # the public code: conv2d_transpose(code, 64, 3, 2), (.., 32, 2, 2), (.., 1, 2, 2): kernel 3 stride 2 first
    assert mnist == [("transposed conv", 3, 2, (64, 7, 7)), ("transposed conv", 2, 2, (32, 14, 14)),
                     ("transposed conv", 2, 2, (1, 28, 28))]
    cifar = [(r["kernel"], r["stride"], r["output"][1]) for r in layer_shapes((3, 32, 32)) if r["layer"] == "transposed conv"]
    # deconv_layer(stride=3, kernel=2), (4, 1), (4, 2), (3, 1): its "stride" is the kernel size
    assert cifar == [(3, 2, 11), (4, 1, 14), (4, 2, 30), (3, 1, 32)]
    # the prose's (kernel, stride) cannot give 32: (5 - 1) * 3 + 2 = 14, then (14 - 1) * 4 + 1 = 53, ...
    size = 5
    for kernel, stride in [(2, 3), (1, 4), (2, 4), (1, 3)]:
        size = (size - 1) * stride + kernel
    assert size != 32
    section = deepcustom_doc()
    for name, shape in [("MNIST", (1, 28, 28)), ("CIFAR-10", (3, 32, 32))]:
        for r in layer_shapes(shape):
            row = (f"| {name} | {r['layer']} | {r['in']} -> {r['out']} | {r['kernel']} | {r['stride']} | "
                   f"{'x'.join(map(str, r['output']))} |")
            assert row in section, row


def test_adversarial_training_on_stored_inputs_pairs_each_input_with_its_counterpart():
    """Stored counterparts equal to the clean inputs: the mix is plain cross-entropy on the same batches, so
    the weights equal plain training's; counterparts of other inputs (shuffled) give other weights."""
    from guided_retraining.defences import adversarial_train

    gen = np.random.default_rng(0)
    x = gen.random((40, 1, 28, 28), dtype=np.float32)
    y = gen.integers(0, 10, 40)
    settings = TrainSettings(epochs=2, batch_size=8, optimizer="adam", decay_step=3, decay_rate=0.5)
    plain = build_model("mnist_dense5x30", (1, 28, 28), 10, seed=0)
    train(plain, x, y, settings, seed=5)
    stored = build_model("mnist_dense5x30", (1, 28, 28), 10, seed=0)
    adversarial_train(stored, x, y, settings, seed=5, x_adv=x.copy())
    for a, b in zip(plain.parameters(), stored.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    shuffled = build_model("mnist_dense5x30", (1, 28, 28), 10, seed=0)
    adversarial_train(shuffled, x, y, settings, seed=5, x_adv=x[::-1].copy())
    assert not torch.allclose(next(plain.parameters()), next(shuffled.parameters()), atol=1e-4)


def test_robust_models_train_on_stored_data_by_default_and_on_the_fly_as_an_option(tmp_path):
    def robust_fgsm(c):
        c["attacks"] = {"fgsm": c["attacks"]["fgsm"]}
        c["deepcustom"]["robust"] = ["fgsm"]

    rules = [r for r, _ in dry_run_jobs(tmp_path, dgn_config(tmp_path / "s.yaml", robust_fgsm))]
    assert rules.count("deepcustom_adv_data") == 1

    def on_the_fly(c):
        robust_fgsm(c)
        c["deepcustom"]["adversarial_data"] = "on_the_fly"

    rules = [r for r, _ in dry_run_jobs(tmp_path, dgn_config(tmp_path / "f.yaml", on_the_fly))]
    assert "deepcustom_adv_data" not in rules and rules.count("deepcustom_robust") == 1
