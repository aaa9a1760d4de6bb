"""Rule parameters from one helper and result paths from one table (workflow/lib/providers.py,
workflow/lib/result_paths.py, workflow/rules/params.smk)."""

import re
import sys
from types import SimpleNamespace

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "workflow" / "lib"))

from providers import config_provider, lookup  # noqa: E402
from result_paths import PATTERNS, fields, result_path  # noqa: E402

CONFIG = {"device": "cpu", "datasets": {"digits": {"train": {"epochs": 3}}, "mnist": {"train": {"epochs": 5}}},
          "metrics": {"nc": {"threshold": 0.2}}}


def test_a_provider_reads_the_jobs_own_section():
    train = config_provider(CONFIG, "datasets", "{dataset}", "train")
    assert train(SimpleNamespace(dataset="digits")) == {"epochs": 3}
    assert train(SimpleNamespace(dataset="mnist")) == {"epochs": 5}
    assert config_provider(CONFIG, "device")(SimpleNamespace()) == "cpu"
    assert config_provider(CONFIG, "metrics", "{metric}")(SimpleNamespace(metric="nc")) == {"threshold": 0.2}


def test_a_missing_key_is_its_default_or_a_keyerror_naming_it():
    w = SimpleNamespace(dataset="digits")
    assert lookup(CONFIG, ("datasets", "{dataset}", "steps"), w, default={}) == {}
    with pytest.raises(KeyError, match=r"datasets\.\{dataset\}\.steps \(at 'steps'\)"):
        lookup(CONFIG, ("datasets", "{dataset}", "steps"), w)


def test_result_paths_are_patterns_or_files():
    assert result_path("results", "original_model") == "results/{dataset}/r{rep}/original/model.pt"
    assert result_path("results", "adversarial", attack="{eval_attack}") == \
        "results/{dataset}/r{rep}/{eval_attack}/adversarial.npz"
    job = SimpleNamespace(dataset="digits", rep="2", attack="fgsm", metric="nc")
    assert result_path("out", "adversarial", job, attack="pgd") == "out/digits/r2/pgd/adversarial.npz"
    assert result_path("out", "order", {"dataset": "d", "rep": 1, "attack": "a", "metric": "m", "other": 0}) == \
        "out/d/r1/a/orders/m.npz"
    assert fields("retrain") == ["dataset", "rep", "attack", "configuration", "metric", "point"]
    with pytest.raises(KeyError, match="no result path of kind 'model'"):
        result_path("results", "model")


# the generators' path is spelled once more in common.smk's dgn_generators (the attack kinds' code)
SPELLED_ELSEWHERE = {"generators"}


def test_the_rules_spell_no_result_path_of_their_own():
    """Each kind's last two path parts (e.g. ``orders/{metric}.npz``, any expression in the braces) are written in
    result_paths.py only, never in a rule file."""
    rules = {p.name: p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk")}
    for kind, pattern in PATTERNS.items():
        if kind in SPELLED_ELSEWHERE:
            continue
        tail = "/".join(pattern.split("/")[-2:])
        spelled = "".join(r"\{+[^{}]+\}+" if part.startswith("{") else re.escape(part)
                          for part in re.split(r"(\{\w+\})", tail))
        for name, text in rules.items():
            assert not re.search(spelled, text), f"{name} spells the path of {kind!r} ({pattern}): use path({kind!r})"
