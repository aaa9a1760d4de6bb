"""Every command the README and docs/ show in a ```bash block works as written (issue 22, item 19).

Each snakemake command runs as a dry run (``-n`` added) from a clean copy of the repository (its tracked
and unignored files: no results/, no .snakemake/), as a new user would type it; ``python scripts/<rule>.py
TARGET`` is checked by planning TARGET (a path no rule makes is the MissingRuleException a user met);
the rest are in NOT_RUNNABLE with the reason, and an entry no document shows any more fails the test.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

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


def commands(text: str) -> list[str]:
    """The commands of every ```bash block: continuation lines joined, comments dropped, `a && b` split."""
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            found += [" ".join(part.split()) for part in line.split("&&") if part.strip()]
    return found


def shown() -> dict[str, str]:
    """command -> the document that shows it first."""
    out = {}
    for doc in DOCUMENTS:
        for command in commands(doc.read_text()):
            out.setdefault(command, doc.name)
    return out


def test_commands_are_found():
    found = shown()
    assert "snakemake --cores 8" in found and "snakemake --unlock" in found
    assert commands("```bash\na \\\n  b   # note\nc && d\n```\n```python\nx\n```\n") == ["a b", "c", "d"]


def test_the_not_runnable_list_is_current():
    assert set(NOT_RUNNABLE) <= set(shown()), set(NOT_RUNNABLE) - set(shown())


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean") / "guided-retraining"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
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


# The one line a study stops with, dry runs included, when its data are not where the config's root says: the
# clean copy has no data/ (a study reading data/mnist with download: true plans its download instead).
DATA_MISSING = re.compile(r"^guided-retraining: config error: .*expected .*set datasets\.\w+\.root", flags=re.M)


@pytest.mark.parametrize("command", [c for c in shown() if c not in NOT_RUNNABLE])
def test_shown_command_runs(clean_copy, command):
    argv = planned(command)
    proc = subprocess.run(argv, cwd=clean_copy, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SLURM_CONF": os.environ.get("SLURM_CONF", "/dev/null")})
    output = proc.stdout + proc.stderr
    if proc.returncode == 1 and "-n" in argv and DATA_MISSING.search(output):
        ours = [line for line in output.splitlines() if line.startswith("guided-retraining:")]
        assert len(ours) == 1 and "Traceback" not in output, output[-3000:]
        return
    assert proc.returncode == 0, f"{command} ({shown()[command]}):\n{output[-3000:]}"
    assert "Exception" not in output and "Traceback" not in output, output[-3000:]
    if "-n" in argv:
        assert "This was a dry-run" in output or "Nothing to be done" in output, output[-2000:]


def test_no_file_cites_documents_that_are_not_in_the_repository():
    """Comments and docs stand alone: no citation of the design notes or replication facts kept outside."""
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    cited = {name: [f for f in tracked if (REPO / f).is_file() and f != "tests/test_docs_commands.py"
                    and name in (REPO / f).read_text(errors="replace")]
             for name in ("DESIGN.md", "REPLICATION.md")}
    for name, files in cited.items():
        assert not (REPO / name).exists() and files == [], (name, files)
