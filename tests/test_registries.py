"""One source of truth for names: the schema's enums and the documented lists (docs/config-keys.md,
docs/metrics.md) agree with the code's registries (loaders, architectures, attack kinds, metrics)."""

import re

import yaml

from conftest import REPO

from guided_retraining.architectures import SPECS
from guided_retraining.attacks import ATTACKS
from guided_retraining.datasets import LOADERS
from guided_retraining.metrics.registry import readme_table, schema_fragment
from guided_retraining.shifts import SHIFTS

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
CONFIG_KEYS = (REPO / "docs/config-keys.md").read_text()
METRICS_DOC = (REPO / "docs/metrics.md").read_text()


def enums(node) -> set[str]:
    """Every name listed in an ``enum`` anywhere below ``node`` of the schema."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum":
                found |= {v for v in value if isinstance(v, str)}
            else:
                found |= enums(value)
    elif isinstance(node, list):
        for item in node:
            found |= enums(item)
    return found


def readme_list(key: str, row: str) -> set[str]:
    """The names in parentheses after `` `key` `` in docs/config-keys.md's table row starting with ``row``."""
    line = next(line for line in CONFIG_KEYS.splitlines() if line.startswith(f"| `{row}`"))
    return {n.strip() for n in re.search(rf"`{key}` \(([^)]*)\)", line).group(1).split(",")}


def test_loaders():
    """The schema's loader enum is the registry's declarations, in their order."""
    dataset = SCHEMA["$defs"]["dataset"]["properties"]
    assert dataset["loader"]["enum"] == list(LOADERS)
    assert readme_list("loader", "datasets.NAME") == set(LOADERS)


def test_architectures():
    assert enums(SCHEMA["$defs"]["dataset"]["properties"]["arch"]) == set(SPECS)
    assert readme_list("arch", "datasets.NAME") == set(SPECS)


def test_attack_kinds():
    """The grid's kinds are the attacks' and the shifts'; defences and adv_test take the attacks declared for
    them (dgn, whose generators only the grid trains: neither), the defences also none."""
    assert enums(SCHEMA["$defs"]["attack"]["properties"]["kind"]) == set(ATTACKS) | set(SHIFTS)
    assert enums(SCHEMA["$defs"]["eval_attack"]["properties"]["kind"]) == set(ATTACKS) - {"dgn"} | {"none"}
    assert enums(SCHEMA["$defs"]["test_attack"]["properties"]["kind"]) == set(ATTACKS) - {"dgn"}
    assert [k for k, d in ATTACKS.items() if d.needs_generators] == ["dgn"]
    assert all(d.name == k == d.cls.name for k, d in ATTACKS.items())
    # the README's row lists the attacks (the shift kinds once the README names them too)
    assert set(ATTACKS) <= readme_list("kind", "attacks.NAME") <= set(ATTACKS) | set(SHIFTS)
    shifts_doc = (REPO / "docs/shifts.md").read_text()
    assert all(f"`{kind}`" in shifts_doc for kind in SHIFTS)


def test_metrics():
    """The schema's metric kinds and option names/types and docs/metrics.md's metric table are the registry's."""
    assert SCHEMA["$defs"]["metric"] == schema_fragment()
    assert readme_table() in METRICS_DOC


def test_no_branch_on_a_kind_name_outside_its_own_module():
    """The code asks a kind's declaration (needs_generators, reads_source, paired, uses), never its name: no
    comparison with an attack or shift kind's name outside the module declaring it. The adversarial training's
    own option (defences.adversarial_training.attack: fgsm or pgd, implemented in its module) is its own."""
    kinds = set(ATTACKS) | set(SHIFTS)
    compare = re.compile(r"""(==|!=|\bin)\s*\(?["'](%s)["']""" % "|".join(sorted(kinds)))
    own = {f"src/guided_retraining/attacks/{k}.py" for k in ATTACKS} | {
        f"src/guided_retraining/shifts/{k}.py" for k in SHIFTS} | {"src/guided_retraining/defences/adversarial_training.py"}
    files = [*(REPO / "src").rglob("*.py"), *(REPO / "scripts").glob("*.py"), *(REPO / "workflow").rglob("*.smk"),
             *(REPO / "workflow/lib").glob("*.py"), REPO / "Snakefile"]
    found = [f"{path.relative_to(REPO)}:{n}: {line.strip()}" for path in files
             if str(path.relative_to(REPO)) not in own
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if compare.search(line) and 'training.get("attack"' not in line]  # the adversarial training's option
    assert found == []
