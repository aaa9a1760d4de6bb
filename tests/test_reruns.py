"""Changing one thing re-runs only what depends on it (dry-run job lists after the tiny study)."""

from collections import Counter

import pytest

from conftest import AFTER_RESULTS, dry_run_jobs, write_config

pytestmark = pytest.mark.workflow


def counts(jobs):
    return Counter(rule for rule, _ in jobs)


def test_nothing_to_do_after_a_complete_run(tiny_run):
    assert dry_run_jobs(tiny_run, tiny_run / "tiny.yaml") == []


def test_one_metric_setting_reruns_only_that_metric(tiny_run):
    def change(c):
        c["metrics"]["nc"]["threshold"] = 0.5

    jobs = dry_run_jobs(tiny_run, write_config(tiny_run / "nc.yaml", change))
    assert counts(jobs) == {"score": 1, "order": 1, "retrain": 3 * 3 + 1, **AFTER_RESULTS}
    assert {w.get("metric") for r, w in jobs if r not in AFTER_RESULTS} == {"nc"}


def test_adding_a_metric_runs_only_its_jobs(tiny_run):
    def change(c):
        c["metrics"]["margin"] = {}

    jobs = dry_run_jobs(tiny_run, write_config(tiny_run / "margin.yaml", change))
    assert counts(jobs) == {"score": 1, "order": 1, "retrain": 10, **AFTER_RESULTS}
    assert {w.get("metric") for r, w in jobs if r not in AFTER_RESULTS} == {"margin"}


def test_attack_epsilon_reruns_the_attack_and_what_follows_only(tiny_run):
    def change(c):
        c["attacks"]["fgsm"]["eps"] = 0.2

    jobs = counts(dry_run_jobs(tiny_run, write_config(tiny_run / "eps.yaml", change)))
    assert "prepare" not in jobs and "train_original" not in jobs
    assert jobs == {"attack": 1, "activations": 2, "score": 6, "order": 6, "retrain": 60, **AFTER_RESULTS}


def test_retrain_epochs_rerun_only_retraining(tiny_run):
    def change(c):
        c["retrain"]["train"]["epochs"] = 4

    assert counts(dry_run_jobs(tiny_run, write_config(tiny_run / "epochs.yaml", change))) == {
        "retrain": 60, **AFTER_RESULTS}


def test_every_rule_that_builds_a_model_takes_the_model_files_digest():
    """A user's model file is part of the model: every rule whose script builds the model (reads params.arch)
    takes arch_param (the architecture with the model file's sha256), so editing the file re-runs it."""
    import re
    from pathlib import Path

    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    from conftest import CONFIGS, REPO

    readers = {p.stem for p in (REPO / "scripts").glob("*.py") if re.search(r"\bp(arams)?\.arch\b", p.read_text())}
    assert {"train_original", "attack", "retrain", "transfer_inputs", "evaluate_defence"} <= readers
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1),
                                config_settings=ConfigSettings(configfiles=[CONFIGS / "defences.yaml"]),
                                snakefile=REPO / "Snakefile", workdir=Path.cwd())._workflow
        arch_param = workflow.globals["arch_param"]
        with_arch = {rule.name: dict(rule.params.items())["arch"] for rule in workflow.rules
                     if "arch" in dict(rule.params.items())}
    assert readers <= set(with_arch), readers - set(with_arch)
    assert {"transfer_inputs", "evaluate_transfer"} <= set(with_arch)
    assert {name for name, arch in with_arch.items() if arch is not arch_param} == set()
