"""SLURM resource requests: every shipped profile and every documented example passes the pinned
executor plugin's own validators, and GPUs go only to rules that use a device (issue 26, item 1).

The plugin's functions are the ones its executor calls on each job before ``sbatch``
(``validate_slurm_extra``, ``get_submit_command``, ``set_gres_string``) plus the partition
selector's ``parse_gpu_requirements``; jobs are built from the rules' resources as Snakemake builds
them (a ``ResourceList``).
"""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from conftest import REPO

plugin = pytest.importorskip("snakemake_executor_plugin_slurm",
                             reason="snakemake-executor-plugin-slurm not installed (bash .ci/install-slurm.sh)")

PROFILES = sorted((REPO / "profiles").glob("slurm*/config.yaml"))
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
GPU_KEYS = ("gpu", "gpus", "gpu_model", "gres")


def pinned_version() -> str:
    text = (REPO / ".ci/install-slurm.sh").read_text()
    return re.search(r'SLURM_PLUGIN_VERSION="\$\{SLURM_PLUGIN_VERSION:-([0-9.]+)\}"', text).group(1)


VARIANT = re.compile(r"^use rule (\w+) as (\w+)", re.M)


def device_rules() -> set[str]:
    """Rules whose params take the config's device (the ones that can use a GPU): those built on
    ``model_params`` (workflow/rules/params.smk, which passes ``device``) or passing ``device`` themselves, and
    the ``use rule ... as`` variants of those."""
    rules = set()
    texts = [smk.read_text() for smk in (REPO / "workflow/rules").glob("*.smk")]
    for text in texts:
        for m in re.finditer(r"^rule (\w+):(.*?)(?=^rule |^use rule |\Z)", text, re.S | re.M):
            if "model_params(" in m.group(2) or re.search(r"\bdevice=", m.group(2)):
                rules.add(m.group(1))
    for text in texts:
        rules |= {variant for base, variant in VARIANT.findall(text) if base in rules}
    return rules


def all_rules() -> set[str]:
    texts = [smk.read_text() for smk in (REPO / "workflow/rules").glob("*.smk")]
    return ({m.group(1) for text in texts for m in re.finditer(r"^rule (\w+):", text, re.M)}
            | {variant for text in texts for _, variant in VARIANT.findall(text)})


def documented_examples() -> list[tuple[str, dict]]:
    """Every ```yaml block of the docs that sets resources (set-resources or default-resources)."""
    found = []
    for doc in DOCS:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)):
            data = yaml.safe_load(block)
            if isinstance(data, dict) and ({"set-resources", "default-resources"} & set(data)):
                found.append((f"{doc.name} yaml block {i + 1}", data))
    return found


def jobs_of(profile: dict) -> dict[str, object]:
    """One job per rule named in ``set-resources`` (plus one with the defaults only), with the
    profile's default resources under the rule's own, as Snakemake merges them."""
    from snakemake.iocontainers import ResourceList

    defaults = {}
    for item in profile.get("default-resources", []):
        key, _, value = str(item).partition("=")
        defaults[key] = int(value) if value.isdigit() else value.strip("'\"")
    per_rule = {"(defaults)": {}, **(profile.get("set-resources") or {})}
    return {rule: SimpleNamespace(name=rule, threads=2, is_group=lambda: False,
                                  resources=ResourceList(fromdict={**defaults, **res}))
            for rule, res in per_rule.items()}


def submit(job) -> str:
    """The sbatch call the plugin would build for ``job`` (its validators raise WorkflowError)."""
    from snakemake_executor_plugin_slurm.partitions import parse_gpu_requirements
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string
    from snakemake_executor_plugin_slurm.validation import validate_slurm_extra

    validate_slurm_extra(job)
    parse_gpu_requirements(job)
    params = {"run_uuid": "uuid", "slurm_logfile": Path("log/%j.log"), "comment_str": f"rule_{job.name}",
              "account": "", "partition": "", "workdir": "/work"}
    return get_submit_command(job, params) + set_gres_string(job)


def test_the_installed_plugin_is_the_pinned_one():
    from importlib.metadata import version

    assert version("snakemake-executor-plugin-slurm") == pinned_version()


def test_the_shipped_profiles_and_examples_are_found():
    assert {p.parent.name for p in PROFILES} >= {"slurm", "slurm-gpu"}
    assert [name for name, _ in documented_examples()], "docs/slurm.md shows no yaml example of resources"


@pytest.mark.parametrize("source", [p.parent.name for p in PROFILES] + [n for n, _ in documented_examples()])
def test_every_profile_and_example_passes_the_plugins_validation(source):
    examples = dict(documented_examples())
    profile = examples[source] if source in examples else yaml.safe_load((REPO / "profiles" / source / "config.yaml")
                                                                         .read_text())
    if source in examples or profile.get("executor") == "slurm":
        assert set(profile.get("set-resources") or {}) <= all_rules(), "set-resources names a rule that does not exist"
    gpu_rules = device_rules()
    for rule, job in jobs_of(profile).items():
        call = submit(job)  # raises WorkflowError on anything the plugin rejects
        wants_gpu = any(job.resources.get(k) for k in GPU_KEYS)
        if wants_gpu:
            assert rule in gpu_rules, f"{source}: {rule} asks for a GPU but uses no device"
            assert "--gpus=" in call, call
            assert "--gres" not in call and "--gres" not in str(job.resources.get("slurm_extra", ""))
        if job.resources.get("constraint"):
            assert f"-C {job.resources.constraint}" in call


def test_the_gpu_profile_gives_every_device_rule_a_gpu_and_no_other():
    profile = yaml.safe_load((REPO / "profiles/slurm-gpu/config.yaml").read_text())
    gpu = {rule for rule, res in profile["set-resources"].items() if res.get("gpu")}
    assert gpu == device_rules()
    calls = {rule: submit(job) for rule, job in jobs_of(profile).items()}
    assert "--gpus=1" in calls["retrain"] and "--gpus" not in calls["(defaults)"]


def test_the_example_the_docs_gave_before_is_rejected():
    """The old documented request fails the pinned plugin (the reason for the keys above)."""
    from snakemake_interface_common.exceptions import WorkflowError

    job = jobs_of({"set-resources": {"train_original": {"slurm_extra": "'--gres=gpu:a100:1 --constraint=a100'"}}})
    with pytest.raises(WorkflowError, match="not allowed in the 'slurm_extra'"):
        submit(job["train_original"])
