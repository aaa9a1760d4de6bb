"""Every optional key of the schema may be left out (issue 22, item 13): the DAG of a config that has
only the required keys is built (a dry run), and so is one per section with that section's optional keys
left out. Defaults live in the schema (filled in by guided_retraining.config); a rule reading an optional
key that has none crashes here while the DAG is built."""

import copy

import pytest
import yaml

from conftest import CONFIGS, REPO, snakemake

from guided_retraining.config import validate_schema
from guided_retraining.errors import ConfigError
from guided_retraining.metrics import resolve_options

pytestmark = pytest.mark.workflow

SCHEMA_PATH = REPO / "workflow/schemas/config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


def full_config() -> dict:
    """The tiny study with every section of the schema present: defences, deepcustom, aggregate, objectives."""
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    defences = yaml.safe_load((CONFIGS / "defences.yaml").read_text())["defences"]
    config.update(repetitions=1, defences=defences,
                  deepcustom={"activation_threshold": 0.0, "top_k": 5, "alpha_mix": 0.5, "train": {"epochs": 1},
                              "robust": ["fgsm"]},
                  aggregate={"include_original_in_best": False, "select_on": "validation"},
                  objectives={"budgets": [0.1, 30]})
    config["datasets"]["digits"].update(root=None, download=False, options={}, original={}, batch_size_eval=256,
                                        allow_chance_original=False, steps={"C1": 100, "C2": 100, "C3": 40})
    config["datasets"]["digits"]["train"].update(optimizer="rmsprop", lr=0.001, patience=3)
    return config


def resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def required_only(value, schema: dict):
    """``value`` with every key its schema does not require left out, at every depth."""
    schema = resolve(schema)
    if not isinstance(value, dict) or schema.get("type") != "object":
        return value
    properties = schema.get("properties", {})
    if "additionalProperties" in schema and isinstance(schema["additionalProperties"], dict) \
            and "$ref" in schema["additionalProperties"]:  # named entries (datasets, attacks, ...): keep the names
        return {name: required_only(entry, schema["additionalProperties"]) for name, entry in value.items()}
    return {key: required_only(v, properties.get(key, {})) for key, v in value.items()
            if key in schema.get("required", [])}


def metric_required_only(metrics: dict) -> dict:
    """The metrics' options a metric's kind requires (the registry decides: layers for the metrics that read
    a layer, checked by test_bad_inputs); every other option left out."""
    out = {}
    for name, options in metrics.items():
        kept = dict(options)
        for key in list(options):
            trial = {k: v for k, v in kept.items() if k != key}
            try:
                resolve_options(trial.get("kind", name), trial)
            except ConfigError:
                continue
            kept = trial
        out[name] = kept
    return out


def without_optional(section: str | None) -> dict:
    """The full config with the optional keys of one top-level ``section`` left out (None: everywhere)."""
    config = full_config()
    if section is None:
        config = required_only(config, SCHEMA)
    else:
        config[section] = required_only(config[section], SCHEMA["properties"][section])
    if section in (None, "metrics"):
        config["metrics"] = metric_required_only(full_config()["metrics"])
    return config


SECTIONS = [key for key, sub in SCHEMA["properties"].items() if resolve(sub).get("type") == "object"]


def deepcustom_matrix_without_its_options() -> dict:
    """deepcustom's optional keys left out except ``robust``, which switches its rules on (they read the rest)."""
    config = full_config()
    config["deepcustom"] = {"robust": ["fgsm"]}
    return config


CASES = {section or "only-required-keys": lambda s=section: without_optional(s) for section in [None, *SECTIONS]}
CASES["deepcustom-robust-only"] = deepcustom_matrix_without_its_options


def test_the_cases_leave_keys_out():
    """The helper really strips: the minimal config is smaller than the full one, and valid."""
    minimal = without_optional(None)
    assert set(minimal) == set(SCHEMA["required"])
    assert set(minimal["datasets"]["digits"]) == {"loader", "arch", "train", "adv_train_size"}
    assert minimal["datasets"]["digits"]["train"] == {"epochs": 8, "batch_size": 64}
    assert minimal["retrain"] == {"data_points": 3}
    assert minimal["attacks"] == {"fgsm": {"kind": "fgsm"}}
    assert minimal["metrics"]["nc"] == minimal["metrics"]["lsa"] == {"layers": ["last_hidden"]}
    assert minimal["metrics"]["deepgini"] == {}
    assert without_optional("defences")["defences"].keys() == {"guided_attack", "attacks"}
    assert without_optional("deepcustom")["deepcustom"] == {}
    assert {"datasets", "attacks", "metrics", "retrain", "defences", "deepcustom", "aggregate"} <= set(SECTIONS)
    for section in [None, *SECTIONS]:
        validate_schema(copy.deepcopy(without_optional(section)), SCHEMA_PATH)


@pytest.mark.parametrize("case", list(CASES))
def test_the_dag_builds_without_optional_keys(tmp_path, case):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(CASES[case](), sort_keys=False))
    proc = snakemake(tmp_path, "-n", "--cores", "2", configfile=path, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Exception" not in proc.stdout + proc.stderr
    assert "retrain" in proc.stdout + proc.stderr
