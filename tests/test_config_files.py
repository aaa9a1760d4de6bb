"""Which config a run uses (guided_retraining.config_files, docs/configuration.md): the default study is the
base, config files override it in order, then --config; collections given later replace, settings sections merge
key by key; a bad file or missing data stops a dry run with one line."""

import copy
import glob
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, dry_run_jobs, snakemake, write_config

from guided_retraining.config import validate_schema
from guided_retraining.config_files import layered_config, load_config_file, merge, settings_sections
from guided_retraining.errors import ConfigError

SCHEMA_PATH = REPO / "workflow/schemas/config.schema.yaml"
DEFAULT = yaml.safe_load((REPO / "config/config.yaml").read_text())


def write(path, text):
    path.write_text(text)
    return path


def test_sections_come_from_the_schema():
    assert settings_sections(yaml.safe_load(SCHEMA_PATH.read_text())) == {"retrain", "defences", "deepcustom",
                                                                          "aggregate", "objectives"}


def test_a_one_key_file_overrides_only_that_key(tmp_path):
    config = layered_config(REPO, [write(tmp_path / "one.yaml", "repetitions: 5\n")])
    assert config == {**DEFAULT, "repetitions": 5}


def test_a_later_files_collections_replace_and_settings_merge(tmp_path):
    first = write(tmp_path / "a.yaml", "metrics: {deepgini: {}, random: {}, dsa: {layers: [last_hidden]}}\n"
                                       "retrain: {data_points: 2}\nconfigurations: [C1, C2]\n")
    second = write(tmp_path / "b.yaml", "metrics: {deepgini: {}}\nretrain: {train: {lr: 0.01}}\n"
                                        "aggregate: {budgets: null}\nconfigurations: [C3]\n")
    config = layered_config(REPO, [first, second])
    assert config["metrics"] == {"deepgini": {}}  # replaced, not merged with the first file's or the default's
    assert config["configurations"] == ["C3"]
    assert config["retrain"] == {"data_points": 2, "train": {"lr": 0.01}}  # key by key; each key's value replaced
    assert config["aggregate"] == {"include_original_in_best": False, "select_on": "validation"}  # null: removed
    assert config["datasets"] == DEFAULT["datasets"]
    validate_schema(config, SCHEMA_PATH)
    assert config["aggregate"]["budgets"] == [0.05, 0.1, 0.25, 0.5]  # the schema's default applies


def test_shifts_and_attacks_are_one_collection(tmp_path):
    from guided_retraining.config import merge_shifts

    shifts = write(tmp_path / "s.yaml", "shifts: {fog: {kind: corruption, name: fog, severity: 3}}\n")
    config = layered_config(REPO, [shifts])
    assert "attacks" not in config and config["shifts"] == {"fog": {"kind": "corruption", "name": "fog",
                                                                     "severity": 3}}
    merge_shifts(config)
    assert list(config["attacks"]) == ["fog"]  # the default's fgsm replaced, not joined
    both = write(tmp_path / "b.yaml", "attacks: {pgd: {kind: pgd}}\nshifts: {fog: {kind: corruption}}\n")
    config = layered_config(REPO, [shifts, write(tmp_path / "a.yaml", "attacks: {bim: {kind: bim}}\n")])
    assert (config["attacks"], "shifts" in config) == ({"bim": {"kind": "bim"}}, False)
    config = layered_config(REPO, [both])  # one file may give both names: they join (merge_shifts)
    assert set(config) >= {"attacks", "shifts"}


def test_config_values_override_the_files(tmp_path):
    config = layered_config(REPO, [write(tmp_path / "a.yaml", "repetitions: 2\nseed: 4\n")],
                            {"repetitions": 7, "device": None})
    assert (config["repetitions"], config["seed"], "device" in config) == (7, 4, False)


def test_merge_does_not_modify_its_inputs():
    base = {"retrain": {"data_points": 3, "train": {"epochs": 1}}, "metrics": {"nc": {}}}
    before = copy.deepcopy(base)
    merged = merge(base, {"retrain": {"data_points": 4}, "metrics": {"dsa": {}}}, {"retrain"})
    merged["retrain"]["train"]["epochs"] = 9
    assert base == before and merged["metrics"] == {"dsa": {}}


@pytest.mark.parametrize("path", sorted(glob.glob(str(REPO / "config/*.yaml")) + glob.glob(str(REPO / "tests/configs/*.yaml"))))
def test_shipped_configs_do_not_depend_on_the_default(path, clean_registries, monkeypatch):
    """Every shipped and test config gives the same effective config alone as on top of the default study, so
    editing config/config.yaml changes no other study (a key left out would inherit the default's value)."""
    from guided_retraining.config import merge_shifts
    from guided_retraining.plugins import load_config

    monkeypatch.chdir(REPO)  # a config's plugins: paths relative to the working directory
    alone = load_config_file(path)
    load_config(alone)  # as the workflow does before its checks (tests/configs/plugins.yaml)
    merge_shifts(alone)  # `shifts`: another name of `attacks`, joined into it before the schema
    validate_schema(alone, SCHEMA_PATH)
    layered = layered_config(REPO, [path])
    merge_shifts(layered)
    validate_schema(layered, SCHEMA_PATH)
    assert layered == alone


@pytest.mark.parametrize("text, message", [
    (None, "config file {path}: not found"),
    ("seed: [0\n", "config file {path}: not valid YAML at line 2, column 1"),
    ("- seed\n", "config file {path}: expected a mapping of keys (key: value), found a list"),
])
def test_a_bad_config_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "c.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config_file(path)
    assert str(err.value).startswith(message.format(path=path)) and "\n" not in str(err.value)


@pytest.mark.workflow
def test_the_plan_follows_the_layers(tmp_path):
    """A dry run: the default's dataset and attack, the first file's data points and configuration, the second
    file's metric only (the first's random is not kept), --config's repetitions."""
    write(tmp_path / "a.yaml", "metrics: {deepgini: {}, random: {}}\nretrain: {data_points: 2}\n"
                               "aggregate: {budgets: []}\nconfigurations: [C3]\n")
    write(tmp_path / "b.yaml", "metrics: {deepgini: {}}\n")
    jobs = dry_run_jobs(tmp_path, None, "--configfile", str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"),
                        "--config", "repetitions=2")
    scores = sorted((w["rep"], w["metric"]) for rule, w in jobs if rule == "score")
    assert scores == [("1", "deepgini"), ("2", "deepgini")]
    retrains = sorted((w["rep"], w["configuration"], w["point"]) for rule, w in jobs if rule == "retrain")
    assert retrains == [(r, "C3", p) for r in ("1", "2") for p in ("p1", "p2")]
    assert {w["dataset"] for _, w in jobs if "dataset" in w} == {"digits"}
    assert {w["attack"] for _, w in jobs if "attack" in w} == {"fgsm"}


@pytest.mark.workflow
def test_the_default_study_from_another_directory(tmp_path):
    """--directory DIR (and a Snakefile run from elsewhere) finds the default config beside the Snakefile."""
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"),
                           "--directory", str(tmp_path / "elsewhere"), "--config", "repetitions=1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule retrain:" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_a_dry_run_stops_when_the_data_are_missing(tmp_path):
    def to_mnist(config):
        config["datasets"] = {"mnist": {"loader": "mnist", "root": "absent/mnist", "arch": "mnist_cnn",
                                        "split": {"mode": "merged", "subset": 300},
                                        "train": {"epochs": 1, "batch_size": 32}, "adv_train_size": 20}}

    proc = snakemake(tmp_path, "-n", configfile=write_config(tmp_path / "c.yaml", to_mnist), check=False)
    lines = [l for l in proc.stderr.splitlines() if l.startswith("guided-retraining:")]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(f"guided-retraining: config error: mnist: {tmp_path}/absent/mnist:"
                                                   " expected train-images-idx3-ubyte[.gz]"), lines
    assert lines[0].endswith("set datasets.mnist.root (or set datasets.mnist.download: true to fetch it)")


def test_download_fetches_only_what_is_absent(tmp_path):
    """With download: true and the four idx files already in root (the official layout, not torchvision's), the
    loader reads them and fetches nothing (torchvision would write MNIST/raw/ under root)."""
    from fixtures_datasets import write_idx_dataset

    from guided_retraining.datasets import load

    arrays = write_idx_dataset(tmp_path, n_train=12, n_test=5)
    raw = load("mnist", tmp_path, download=True)
    assert raw.x_train.shape == (12, 1, 28, 28) and raw.x_test.shape == (5, 1, 28, 28)
    assert (raw.y_train == arrays["train-labels-idx1-ubyte"]).all()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{f}.gz" for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                            "t10k-labels-idx1-ubyte"))


@pytest.mark.parametrize("dataset, message", [
    ({"loader": "mnist", "root": "absent", "download": True}, None),  # the prepare job fetches it
    ({"loader": "intel", "root": "absent", "download": True},
     "datasets.d.download: loader intel cannot download its data; set download: false and put the data under"
     " datasets.d.root"),
    ({"loader": "mnist", "root": None, "download": True},
     "datasets.d.root: download: true needs a directory to download into"),
])
def test_download_settings_are_checked(tmp_path, monkeypatch, dataset, message):
    from guided_retraining.config import check_semantics

    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    config["datasets"] = {"d": {**dataset, "arch": "mnist_cnn", "split": {"mode": "merged", "subset": 300},
                                "train": {"epochs": 1, "batch_size": 32}, "adv_train_size": 20}}
    validate_schema(config, SCHEMA_PATH)
    if message is None:
        check_semantics(config, check_model=False)
        return
    with pytest.raises(ConfigError) as err:
        check_semantics(config, check_model=False)
    assert str(err.value) == message
