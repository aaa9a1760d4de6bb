"""Plugins (the config's ``plugins``, guided_retraining.plugins, docs/plugins.md): a module outside the package
registers a loader, an attack kind, a metric and a result table, one declaration each
(tests/plugins/toy_plugin.py), and a tiny study runs with all four; a duplicate name or a module that cannot be
imported stops with one line naming ``plugins``."""

import json
import re

import numpy as np
import pytest
import yaml

from conftest import CONFIGS, REPO, snakemake

from guided_retraining import attacks, datasets, metrics, plugins, table_registry
from guided_retraining.errors import ConfigError
from guided_retraining.io import load_npz

PLUGIN = REPO / "tests/plugins/toy_plugin.py"


def one_line(exc) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    return message


def test_a_plugin_registers_one_of_each_and_loads_once(clean_registries, monkeypatch):
    monkeypatch.chdir(REPO)
    plugins.load(["tests/plugins/toy_plugin.py"])  # a path relative to the working directory
    plugins.load([str(PLUGIN)])  # the same file: imported once per process, no duplicate
    assert datasets.LOADERS["digits3"].n_classes == 3
    assert attacks.ATTACKS["uniform_noise"].settings() == {"eps": 0.1, "seed": 0}
    assert "activation_norm" in metrics.registry.LAYER_METRICS
    assert table_registry.TABLES["toy_accuracy"].rule == "aggregate"
    raw = datasets.load("digits3")
    assert raw.x_train.shape == (537, 1, 8, 8) and sorted(np.unique(raw.y_train)) == [0, 1, 2]
    # the toy attack: L-inf <= eps, the same seed gives the same inputs
    import torch

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    x, y = raw.x_train[:20], raw.y_train[:20]
    one = attacks.make_attack("uniform_noise", seed=3, eps=0.1).run(model, x, y)
    two = attacks.make_attack("uniform_noise", seed=3, eps=0.1).run(model, x, y)
    assert np.array_equal(one.x_adv, two.x_adv) and 0.05 < one.linf.max() <= 0.1 + 1e-6
    # the toy metric: the L2 norm of the traces, e.g. (3, 4) -> 5
    target = {"layer:h": np.array([[3.0, 4.0], [0.0, 0.0]]), "pred": np.array([0, 1])}
    values, _ = metrics.registry.METRICS["activation_norm"].compute(
        metrics.registry.Inputs(target, {}), {"layers": ["h"]}, 0, None)
    assert values.tolist() == [5.0, 0.0]


@pytest.mark.parametrize("register,declaration", [
    (lambda d: datasets.register(d),
     lambda: datasets.Loader("digits", "another", lambda root=None: None, lambda root=None: None,
                             signature=lambda root: None)),
    (lambda d: attacks.register(d), lambda: attacks.AttackKind("fgsm", attacks.FGSM, "again")),
    (lambda d: metrics.register(d), lambda: metrics.Metric("nc", "again", "", lambda *a: None, frozenset())),
    (lambda d: table_registry.register(d), lambda: table_registry.Table("table3", "aggregate", "T", "x", "y",
                                                                        lambda r: None, "T", "/t.rst")),
])
def test_a_name_already_declared_is_one_line(clean_registries, register, declaration):
    with pytest.raises(ConfigError) as exc:
        register(declaration())
    assert re.fullmatch(r"plugins: (loader|attack kind|metric|table) '\w+' is already declared; choose another name",
                        one_line(exc))


def test_a_plugin_that_cannot_import_is_one_line(clean_registries, tmp_path):
    with pytest.raises(ConfigError) as exc:
        plugins.load(["no_such_plugin_x"])
    assert one_line(exc).startswith("plugins: cannot import module 'no_such_plugin_x' (ModuleNotFoundError")
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_y\n")
    with pytest.raises(ConfigError) as exc:
        plugins.load([str(broken)])
    assert one_line(exc).startswith(f"plugins: cannot import module '{broken}' (ModuleNotFoundError")
    with pytest.raises(ConfigError) as exc:
        plugins.load(["missing/plugin.py"])
    assert one_line(exc) == "plugins: 'missing/plugin.py': no such file; expected a .py file that registers its kinds"
    with pytest.raises(ConfigError) as exc:  # the older key names itself
        table_registry.load_extra(["no_such_plugin_x"])
    assert one_line(exc).startswith("extra_tables: cannot import module 'no_such_plugin_x'")


def test_a_duplicate_in_a_plugin_names_the_key_it_was_loaded_by(clean_registries, tmp_path):
    duplicate = tmp_path / "duplicate.py"
    duplicate.write_text("from guided_retraining import attacks\n"
                         "attacks.register(attacks.AttackKind('fgsm', attacks.FGSM, 'again'))\n")
    for key in ("plugins", "extra_tables"):
        with pytest.raises(ConfigError) as exc:
            plugins.load_config({key: [str(duplicate)]})
        assert one_line(exc) == f"{key}: attack kind 'fgsm' is already declared; choose another name"


def tiny_plugin_config(path, **changes):
    """tests/configs/plugins.yaml (the plugin's loader, attack kind, metric and table; C1 at one point), the
    plugin named by its absolute path (the run's working directory is elsewhere)."""
    config = yaml.safe_load((CONFIGS / "plugins.yaml").read_text())
    config.update({"plugins": [str(PLUGIN)], **changes})
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_a_plugin_kind_unknown_without_the_plugin_is_one_line(tmp_path):
    config = tiny_plugin_config(tmp_path / "c.yaml", plugins=[])
    proc = snakemake(tmp_path, "-n", "--cores", "1", configfile=config, check=False)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert re.fullmatch(r"guided-retraining: config error: (datasets\.d3\.loader: 'digits3'|attacks\.noise\.kind: "
                        r"'uniform_noise'|metrics\.norm\.kind: 'activation_norm') is not allowed; choose one of .*",
                        lines[0]), lines[0]


@pytest.mark.workflow
def test_a_tiny_study_runs_with_a_plugins_loader_attack_metric_and_table(tmp_path):
    config = tiny_plugin_config(tmp_path / "plugin.yaml")
    snakemake(tmp_path, "--cores", "2", configfile=config)
    run = tmp_path / "results/d3/r1/noise"
    # the plugin's loader: three classes of digits
    data = load_npz(tmp_path / "results/d3/data.npz")
    assert set(np.unique(data["y_train"])) == {0, 1, 2}
    # the plugin's attack: its side sets, each pixel within eps of its clean source
    adv = load_npz(run / "adversarial.npz")
    clean = data["x_train"][adv["idx_adv_train"]]
    assert len(adv["x_adv_train"]) == 60 and np.abs(adv["x_adv_train"] - clean).max() <= 0.2 + 1e-6
    assert np.abs(adv["x_adv_test"] - data["x_test"]).max() > 0.1
    assert json.loads((run / "attack.json").read_text())["settings"]["kind"] == "uniform_noise"
    # the plugin's metric: one score per input of Train*, the L2 norm of non-negative traces (> 0)
    scores = load_npz(run / "scores/norm.npz")
    assert len(scores["scores"]) == len(data["y_train"]) + 60 and (scores["scores"] > 0).all()
    # the plugin's table: one row per metric, the retrained models of C1's single point
    table = (tmp_path / "results/tables/toy_accuracy.csv").read_text().splitlines()
    assert table[0] == "dataset,attack,metric,models,mean_acc"
    assert [row.split(",")[:4] for row in table[1:]] == [["d3", "noise", "norm", "1"], ["d3", "noise", "random", "1"]]


def test_an_attack_kind_named_as_a_shift_kind_stops_before_the_config_is_read(clean_registries, tmp_path):
    """attacks.register cannot see the shifts (a layer above it); the config check names the clash in one line."""
    from guided_retraining.config import validate_schema

    clash = tmp_path / "clash.py"
    clash.write_text("from guided_retraining import attacks\n\n\n"
                     "class Natural(attacks.FGSM):\n    name = 'natural'\n\n\n"
                     "attacks.register(attacks.AttackKind('natural', Natural, 'an FGSM named as a shift kind'))\n")
    plugins.load_config({"plugins": [str(clash)]})
    with pytest.raises(ConfigError) as exc:
        validate_schema({}, REPO / "workflow/schemas/config.schema.yaml")
    assert one_line(exc) == ("plugins: attack kind 'natural' is already declared as a shift kind; choose another"
                             " name")
