"""The metric registry's entries and option checks; the new metrics' config (config/modern-metrics.yaml)
dry-runs, and they really score and order on a tiny study. (Schema and docs/metrics.md against the registry:
tests/test_registries.py.)"""

import json
import shutil
from collections import Counter

import numpy as np
import pytest
import yaml

from conftest import CONFIGS, REPO, dry_run_jobs, snakemake

from guided_retraining.config import check_semantics, validate_schema
from guided_retraining.errors import ConfigError
from guided_retraining.metrics import METRICS, READS, resolve_options
from guided_retraining.metrics.registry import Option

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"


def test_registry_entries_are_complete():
    for kind, m in METRICS.items():
        assert m.reads <= set(READS), kind
        assert m.produces in ("scores", "order"), kind
        assert ("layers" in m.reads) == ("layers" in m.options), kind
        for key, opt in m.options.items():
            if opt.type != "layers":
                assert opt.check("x", opt.default) == opt.default, (kind, key)  # defaults are valid


def test_option_checks():
    number = Option(0.2, "number", 0, 1)
    assert number.check("k", 1) == 1
    for bad in ("high", True, None, float("nan"), -0.1, 1.01):
        with pytest.raises(ConfigError, match=r"^k: expected a number in \[0, 1\], got "):
            number.check("k", bad)
    with pytest.raises(ConfigError, match="expected an integer >= 1, got 2.5"):
        Option(3, "integer", low=1).check("k", 2.5)
    assert Option(3, "integer", low=1).check("k", 4.0) == 4
    assert Option(None, "layers").check("layers", "dense1") == ["dense1"]
    assert resolve_options("datis", {"kind": "datis", "layers": ["x"]})["k"] == 100
    with pytest.raises(ConfigError, match="^metrics.m.kind: unknown metric 'nope'"):
        resolve_options("nope", {}, where="metrics.m")


def test_modern_metrics_config_checks_and_dry_run(tmp_path):
    config = yaml.safe_load((REPO / "config/modern-metrics.yaml").read_text())
    validate_schema(config, SCHEMA)
    check_semantics(config, check_data=False)
    shutil.copy(REPO / "config/modern-metrics.yaml", tmp_path / "modern.yaml")
    jobs = Counter(rule for rule, _ in dry_run_jobs(tmp_path, tmp_path / "modern.yaml"))
    assert jobs["score"] == 7 and jobs["order"] == 7
    assert jobs["retrain"] == 7 * (3 * (10 + 4) + 1)  # 3 configurations x (10 points + 4 budgets), C2 at C3's total


@pytest.fixture(scope="module")
def modern_run(tmp_path_factory):
    """The new metrics scored and ordered for real on a tiny digits study."""
    workdir = tmp_path_factory.mktemp("modern")
    shutil.copy(CONFIGS / "modern.yaml", workdir / "modern.yaml")
    metrics = yaml.safe_load((CONFIGS / "modern.yaml").read_text())["metrics"]
    targets = [f"results/digits/r1/fgsm/orders/{m}.npz" for m in metrics]
    snakemake(workdir, "--cores", "2", *targets, configfile=workdir / "modern.yaml")
    return workdir, list(metrics)


def test_modern_metrics_score_and_order_for_real(modern_run):
    workdir, metrics = modern_run
    base = workdir / "results/digits/r1/fgsm"
    for m in metrics:
        scores = np.load(base / f"scores/{m}.npz")
        order = np.load(base / f"orders/{m}.npz")["order"]
        summary = json.loads((base / f"scores/{m}.json").read_text())
        n = len(scores["scores"])
        assert np.isfinite(scores["scores"]).all() and sorted(order) == list(range(n)), m
        assert summary["scores_are_ranks"] is (m == "mcp"), m
        if m == "mcp":  # the order strategy's order is used as given, and its scores are its ranks
            np.testing.assert_array_equal(order, scores["order"])
            np.testing.assert_array_equal(scores["scores"][order], n - np.arange(n))
        else:  # descending score (ties in a seeded random order)
            assert np.all(np.diff(scores["scores"][order]) <= 0), m
    assert json.loads((base / "scores/datis.json").read_text())["info"]["k_used"] == 20
