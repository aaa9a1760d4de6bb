"""The table registry (guided_retraining.table_registry): every declared table has its caption file, its docs
row and its rule's output; a table declared outside the package (the config's extra_tables) is written by a
run like the study's own."""

import os
import re
import shutil

import pytest
import yaml

from conftest import REPO, CONFIGS, snakemake
from test_deepcustom import MNIST, dgn_config
from guided_retraining import table_registry
from guided_retraining.errors import ConfigError
from guided_retraining.tables import read_csv

DOCS = (REPO / "docs/figures-and-tables.md").read_text()
PACKAGE_TABLES = list(table_registry.TABLES.values())  # at import: the package's own declarations


def rule_outputs(workdir, configfile, env=None) -> dict[str, str]:
    """results/tables/<file> -> the rule that writes it, as the planned workflow says (--detailed-summary)."""
    proc = snakemake(workdir, "--detailed-summary", "--cores", "1", configfile=configfile, env=env)
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.startswith("results/tables/")]
    return {row[0].removeprefix("results/tables/"): row[2] for row in rows}


def test_every_table_has_its_caption_and_docs_row():
    assert [t.name for t in PACKAGE_TABLES][:3] == ["table3", "table4", "table5"]
    for table in PACKAGE_TABLES:
        assert table.rule in table_registry.RULES, table.name
        assert f"| `{table.name}` |" in DOCS, f"{table.name}: no row in docs/figures-and-tables.md"
        if table.order is not None or table.rule in ("defence_table", "deepcustom_table"):  # shown in the report
            assert table.caption_file(REPO).is_file(), f"{table.name}: no caption {table.caption_file(REPO)}"
        assert (table.compute is not None) == (table.rule == "aggregate"), table.name
    for figure in table_registry.FIGURES.values():
        assert (REPO / f"workflow/report/{figure.caption}.rst").is_file(), figure.name


def test_report_order_is_the_study_tables_then_the_statistics():
    assert table_registry.report_order()[:6] == ["table3", "table4", "table5", "statistics", "statistics_pairs",
                                                 "retraining_time"]
    assert set(table_registry.report_tables("objectives")) == {"objectives", "objectives_overview"}


def test_every_table_is_an_output_of_its_rule(tmp_path):
    outputs = rule_outputs(tmp_path / "tiny", CONFIGS / "tiny.yaml")
    outputs |= rule_outputs(tmp_path / "defences", CONFIGS / "defences.yaml")
    if MNIST.is_dir():  # the DeepCustom rules plan only with the MNIST files on disk
        config = dgn_config(tmp_path / "dgn.yaml", lambda c: c["deepcustom"].update(whitebox=True))
        outputs |= rule_outputs(tmp_path / "dgn", config)
    for table in PACKAGE_TABLES:
        if table.rule in ("deepcustom_table", "suspiciousness") and not MNIST.is_dir():
            continue
        stem = table.name.replace("<dataset>", "mnist" if table.rule == "suspiciousness" else "").replace("<rep>", "1")
        for ext in ("csv", "json", "md"):
            assert outputs.get(f"{stem}.{ext}") == table.rule, f"{stem}.{ext}: not an output of rule {table.rule}"


TOY_MODULE = '''
from pathlib import Path

import pandas as pd

from guided_retraining.table_registry import Table, register


def retrained_models(results):
    """The number of retrained models per dataset and attack."""
    return results.points.groupby(["dataset", "attack"]).size().rename("models").reset_index()


register(Table("toy_models", "aggregate", "Toy: retrained models", "dataset, attack", "`models`",
               retrained_models, "Retrained models per dataset and attack ({chosen})",
               str(Path(__file__).with_name("toy_models.rst")), order=100))
'''


@pytest.mark.workflow
def test_a_table_declared_outside_the_package_is_written_with_the_study(tiny_run, tmp_path):
    """The tiny study's results, then the config names a module of the test's own (extra_tables): the aggregate
    writes its table beside the study's and the report lists it after them; no model job re-runs."""
    (tmp_path / "mytables").mkdir()
    (tmp_path / "mytables/toy.py").write_text(TOY_MODULE)
    (tmp_path / "mytables/toy_models.rst").write_text("Retrained models per dataset and attack.\n")
    workdir = tmp_path / "run"
    shutil.copytree(tiny_run / "results", workdir / "results", symlinks=True)
    shutil.copytree(tiny_run / ".snakemake", workdir / ".snakemake", symlinks=True)
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text()) | {"extra_tables": ["mytables.toy"]}
    (workdir / "toy.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    assert rule_outputs(workdir, workdir / "toy.yaml", env)["toy_models.csv"] == "aggregate"
    proc = snakemake(workdir, "--cores", "2", configfile=workdir / "toy.yaml", env=env)
    ran = re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", proc.stdout + proc.stderr)
    # the one-job rules after the results (their tables name the effective config, which changed); no model job
    assert sorted(set(ran) - {"all"}) == ["aggregate", "objectives", "report_pages", "summary"], ran
    toy = read_csv(workdir / "results/tables/toy_models.csv")
    models = len(list((tiny_run / "results/digits/r1/fgsm/retrain").glob("*/*/*.json")))  # one JSON per model
    assert toy.to_dict("records") == [{"dataset": "digits", "attack": "fgsm", "models": models}] and models > 0
    assert (workdir / "results/tables/toy_models.md").read_text().startswith(
        "# Retrained models per dataset and attack (chosen on Val* = Val + Adv.Val)")
    assert (workdir / "results/report/toy_models.html").is_file()
    # the study's own tables are the tiny run's
    assert (workdir / "results/tables/table3.csv").read_bytes() == (tiny_run / "results/tables/table3.csv").read_bytes()


def test_a_bad_outside_table_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="extra_tables: cannot import module 'no_such_module_x'"):
        table_registry.load_extra(["no_such_module_x"])
    with pytest.raises(ConfigError, match="caption as an absolute path"):
        table_registry.register(table_registry.Table("t", "aggregate", "T", "x", "y", lambda r: None, "T", "t"))
    with pytest.raises(ConfigError, match="'table3' is already declared"):
        table_registry.register(table_registry.Table("table3", "aggregate", "T", "x", "y", lambda r: None, "T",
                                                     str(tmp_path / "t.rst")))
