"""Every command the README and docs/ show in a ```bash block works as written (issue 22, item 19; issue 25).

Each snakemake command runs as a dry run (``-n`` added) from a clean copy of the repository (its tracked
and unignored files: no results/, no .snakemake/), as a new user would type it, after the commands the
documents give to prepare data (RUN_FOR_REAL) and with stand-in datasets in their documented layouts where
the shipped configs' ``root`` keys point; ``python scripts/<rule>.py TARGET`` is checked by planning TARGET
(a path no rule makes is the MissingRuleException a user met); the rest are in NOT_RUNNABLE with the reason,
and an entry no document shows any more fails the test. A ``# plan: N jobs`` comment after a command is
compared with that command's dry-run plan, and every other job count in the documents must be a
measurement that names its commit.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.workflow

DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

NOT_RUNNABLE = {
    "pip install -e .": "installs the package (done once for the test environment)",
    'pip install -e ".[test]"': "installs the package and the test extras",
    "pip install -e . snakemake-executor-plugin-slurm==2.8.0": "installs packages",
    "pip install torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu":
        "installs packages from PyTorch's CPU index",
    "python -m pytest": "the whole suite, of which this test is a part",
    "bash .ci/install-slurm.sh": "installs SLURM on the machine",
    "python -m pytest -m slurm tests/test_slurm_harness.py -q": "needs SLURM daemons (tests/test_slurm_*.py run it)",
    "snakemake --report results/report.html": "collects a finished run's results (tests/test_report.py runs it)",
}

#: Commands that prepare what later commands read: run for real in the clean copy before any dry run.
RUN_FOR_REAL = {
    "python -m guided_retraining.example_data": "writes the worked example's image folder (data/shapes/)",
}

FENCE = re.compile(r"^[ \t]*```bash\n(.*?)^[ \t]*```", flags=re.S | re.M)
CODE_SPAN = re.compile(r"`[^`\n]*`")
PLAN = re.compile(r"#\s*plan: ([\d,]+) jobs(?:, ([\d,]+) of them (\w+))?")


def blocks(text: str) -> list[list[tuple[str, str]]]:
    """Per ```bash block (fences may be indented, as in a list): (command, its comment) for each command;
    continuation lines joined, `a && b` split (the comment goes with the last part)."""
    found = []
    for block in FENCE.findall(text):
        entries = []
        for line in block.replace("\\\n", " ").splitlines():
            comment = re.search(r"(^|\s)(#.*)$", line)
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            parts = [" ".join(part.split()) for part in line.split("&&") if part.strip()]
            entries += [(part, comment.group(2) if comment and i == len(parts) - 1 else "")
                        for i, part in enumerate(parts)]
        found.append(entries)
    return found


def commands(text: str) -> list[str]:
    """The commands of every ```bash block, in order."""
    return [command for block in blocks(text) for command, _ in block]


def shown() -> dict[str, str]:
    """command -> the document that shows it first."""
    out = {}
    for doc in DOCUMENTS:
        for command in commands(doc.read_text()):
            out.setdefault(command, doc.name)
    return out


def plans() -> dict[str, tuple[int, int | None, str | None]]:
    """command -> (total jobs, jobs of one rule, that rule) from its ``# plan:`` comment."""
    out = {}
    for doc in DOCUMENTS:
        for block in blocks(doc.read_text()):
            for command, comment in block:
                m = PLAN.search(comment)
                if m:
                    number = (lambda s: int(s.replace(",", "")) if s else None)
                    out[command] = (number(m.group(1)), number(m.group(2)), m.group(3))
    return out


def test_commands_are_found():
    found = shown()
    assert "snakemake --cores 8" in found and "snakemake --unlock" in found
    assert commands("```bash\na \\\n  b   # note\nc && d\n```\n```python\nx\n```\n   ```bash\n   e\n   ```\n") == \
        ["a b", "c", "d", "e"]
    assert blocks("```bash\nx -n   # plan: 1,918 jobs, 1,830 of them retrain\n```\n") == \
        [[("x -n", "# plan: 1,918 jobs, 1,830 of them retrain")]]
    assert plans()["snakemake --cores 8"][0] > 0


def test_the_not_runnable_list_is_current():
    assert set(NOT_RUNNABLE) <= set(shown()), set(NOT_RUNNABLE) - set(shown())
    assert set(RUN_FOR_REAL) <= set(shown()), set(RUN_FOR_REAL) - set(shown())


def stand_in_data(root, configfiles):
    """Tiny datasets in each loader's real layout where the configs' relative ``root`` keys point."""
    from fixtures_datasets import write_cifar10, write_gtsrb, write_idx_dataset, write_intel

    from guided_retraining.datasets import check_available

    writers = {"mnist": write_idx_dataset, "fashion_mnist": write_idx_dataset, "cifar10": write_cifar10,
               "gtsrb": write_gtsrb, "intel": write_intel}
    for configfile in configfiles:
        config = yaml.safe_load((root / configfile).read_text()) or {}
        for dataset in (config.get("datasets") or {}).values():
            where = dataset.get("root")
            if dataset.get("loader") in writers and where and not os.path.isabs(where) and not (root / where).exists():
                writers[dataset["loader"]](root / where)
                check_available(dataset["loader"], root / where)  # the layout the run's data check accepts


def copy_repository(root):
    """The repository's tracked and unignored files under ``root``, as a clone would have them."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    return root


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory):
    root = copy_repository(tmp_path_factory.mktemp("clean") / "guided-retraining")
    for command in RUN_FOR_REAL:
        argv = shlex.split(command)
        argv[0] = sys.executable if argv[0] == "python" else argv[0]
        subprocess.run(argv, cwd=root, check=True, capture_output=True)
    configfiles = {a for c in shown() for a in re.findall(r"--configfile (\S+)", c)}
    stand_in_data(root, sorted(configfiles))
    return root


def planned(command: str) -> list[str]:
    """The argv to run for a shown command: snakemake as a dry run; a script's target planned by snakemake."""
    argv = shlex.split(command)
    if argv[0] == "snakemake":
        args = argv[1:]
        if "--unlock" not in args and "-n" not in args and "--dry-run" not in args:
            args = ["-n", *args]
        return [sys.executable, "-m", "snakemake", *args]
    if argv[0] == "python" and argv[1].startswith("scripts/"):
        rest = argv[2:]
        return [sys.executable, "-m", "snakemake", "-n", "--cores", "1", *rest]
    if argv[0] == "guided-retraining":  # the console entry point; `run` planned by `check` (a dry run)
        args = ["check", *argv[2:]] if argv[1:2] == ["run"] else argv[1:]
        return [sys.executable, "-m", "guided_retraining.cli", *args]
    raise AssertionError(f"{command!r}: not a command this test can run; add it to NOT_RUNNABLE with the reason")


@lru_cache(maxsize=None)
def _run(root, command: str) -> tuple[int, str]:
    proc = subprocess.run(planned(command), cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", "/dev/null")})
    return proc.returncode, proc.stdout + proc.stderr


def job_stats(output: str) -> dict[str, int]:
    """Snakemake's "Job stats" table of a dry run: rule -> jobs, and "total"."""
    table = output[output.index("Job stats:"):]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table.split("\n\n")[0], re.M)}


@pytest.mark.parametrize("command", [c for c in shown() if c not in NOT_RUNNABLE and c not in RUN_FOR_REAL])
def test_shown_command_runs(clean_copy, command):
    code, output = _run(clean_copy, command)
    assert code == 0, f"{command} ({shown()[command]}):\n{output[-3000:]}"
    assert "Exception" not in output and "Traceback" not in output, output[-3000:]
    if "-n" in planned(command):
        assert "This was a dry-run" in output or "Nothing to be done" in output, output[-2000:]
    if command in plans():
        total, count, rule = plans()[command]
        stats = job_stats(output)
        assert stats["total"] == total, f"{shown()[command]} quotes {total} jobs for {command}; its plan has {stats['total']}"
        if rule:
            assert stats[rule] == count, f"{shown()[command]} quotes {count} {rule} jobs; the plan has {stats[rule]}"


def test_every_job_count_is_a_plan_or_a_measurement_with_its_commit():
    """Job counts in prose name the commit they were measured at; current counts sit in checked plan comments."""
    count = re.compile(r"\b\d[\d,]* (?:[a-z_]+ )?jobs\b")
    for doc in DOCUMENTS:
        text = FENCE.sub("", doc.read_text())
        for paragraph in re.split(r"\n\s*\n", text):
            for row in (paragraph.splitlines() if paragraph.lstrip().startswith("|") else [paragraph]):
                if count.search(CODE_SPAN.sub("", row)) and doc.name != "running.md":  # not a message's format
                    assert re.search(r"commit `[0-9a-f]{7,40}`", row), (doc.name, count.search(row).group(0), row[:300])


def test_the_rerun_table_quotes_the_default_plan(clean_copy):
    """docs/running.md's "what re-runs" counts are the default study's plan divided as the text says."""
    code, output = _run(clean_copy, "snakemake --cores 8")
    assert code == 0, output[-3000:]
    stats = job_stats(output)
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    reps, metrics = config["repetitions"], len(config["metrics"])
    configurations = len(config["configurations"])
    per_metric = stats["retrain"] // metrics
    rows = [
        f"that metric's {reps} scores, {reps} orders and {per_metric} retrain jobs ({per_metric // reps} a repetition",
        f"its {reps} scores, {reps} orders and {per_metric} retrain jobs, then the tables",
        f"{stats['attack']} attacks, {stats['activations']} activations, {stats['score']} scores, {stats['order']} orders "
        f"and {stats['retrain']} retrain jobs",
        f"the {stats['retrain']} retrain jobs, then the tables",
        f"its {configurations * metrics * reps} retrain jobs (C1/C2/C3 x {metrics} metrics x {reps} repetitions)",
    ]
    text = (REPO / "docs/running.md").read_text()
    for row in rows:
        assert row in text, row


def test_the_debugging_command_runs_one_job_alone(tmp_path):
    """docs/running.md: once the study has made a job's inputs, `python scripts/<rule>.py TARGET` from the
    repository root runs that job alone (with the Snakefile of the copy it is run in)."""
    command = next(c for c in shown() if c.startswith("python scripts/"))
    target = shlex.split(command)[2]
    root = copy_repository(tmp_path / "guided-retraining")
    env = {**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", "/dev/null")}
    inputs = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", target, "--omit-from", "retrain"],
                            cwd=root, capture_output=True, text=True, env=env)
    assert inputs.returncode == 0, inputs.stderr[-3000:]
    assert not (root / target).exists()
    proc = subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=root, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((root / target).read_text())
    parts = Path(target).parts  # results/<dataset>/r<rep>/<attack>/retrain/<configuration>/<metric>/<point>.json
    assert (result["configuration"], result["metric"], result["point"], result["rep"]) == (
        parts[-3], parts[-2], Path(target).stem, int(parts[2].removeprefix("r")))


def pinned_plugin_version() -> str:
    text = (REPO / ".ci/install-slurm.sh").read_text()
    return re.search(r'SLURM_PLUGIN_VERSION="\$\{SLURM_PLUGIN_VERSION:-([0-9.]+)\}"', text).group(1)


def test_the_slurm_plugin_is_pinned_the_same_way_everywhere():
    """Every install line and requirement of the SLURM executor plugin pins the version CI installs."""
    version = pinned_plugin_version()
    files = [*DOCUMENTS, REPO / "pyproject.toml", *sorted((REPO / "profiles").glob("*/config.yaml")),
             REPO / "envs/guided-retraining.yaml"]
    found = 0
    for path in files:
        for line in path.read_text().splitlines():
            for m in re.finditer(r"snakemake-executor-plugin-slurm(?!-jobstep)([^\s`\"',]*)", line):
                if "install" in line or path.suffix in (".toml", ".yaml") and m.group(1):
                    found += 1
                    assert m.group(1) == f"=={version}", (path.name, line)
    assert found >= 3


def test_the_cluster_profiles_ask_for_an_account_and_partition():
    """profiles/slurm-cluster and slurm-gpu are for clusters with accounting: placeholders to fill, none of
    the test cluster's settings (profiles/slurm keeps those)."""
    test_cluster = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    assert test_cluster["slurm-no-account"] is True and test_cluster["slurm-status-command"] == "squeue"
    for name in ("slurm-cluster", "slurm-gpu"):
        profile = yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())
        assert profile["executor"] == "slurm"
        assert not {"slurm-no-account", "slurm-status-command"} & set(profile), name
        assert {"slurm_account=YOUR_ACCOUNT", "slurm_partition=YOUR_PARTITION"} <= set(profile["default-resources"])


#: Pages other branches add (their links are in the README already); the lead's merge brings them.
PENDING_PAGES = {"docs/results.md", "docs/install.md", "docs/configuration.md"}


def test_links_between_documents_resolve():
    for doc in DOCUMENTS:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", CODE_SPAN.sub("", FENCE.sub("", doc.read_text()))):
            path = (doc.parent / target).resolve()
            name = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
            assert path.exists() or name in PENDING_PAGES, f"{doc.name} links {target}, which does not exist"


def test_no_file_cites_documents_that_are_not_in_the_repository():
    """Comments and docs stand alone: no citation of the design notes or replication facts kept outside."""
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    cited = {name: [f for f in tracked if (REPO / f).is_file() and f != "tests/test_docs_commands.py"
                    and name in (REPO / f).read_text(errors="replace")]
             for name in ("DESIGN.md", "REPLICATION.md")}
    for name, files in cited.items():
        assert not (REPO / name).exists() and files == [], (name, files)
