"""The workflow's job plumbing: run a rule's entry script inside Snakemake, or alone for debugging.

Inside Snakemake, each rule's ``run:`` block calls :func:`run_script` (through ``run`` in
workflow/rules/common.smk), which imports ``scripts/<rule>.py`` once and calls its ``main(job, log)``
through :func:`guided_retraining.runner.execute`. With the default profile's ``force-use-threads`` the
jobs of a local run are threads of the Snakemake process, so torch is imported once instead of once per
job; on a cluster each job is its own process and runs the same code.

Alone, ``python scripts/<rule>.py TARGET [--configfile FILE]`` builds the same job object for the job
that produces ``TARGET`` (see :func:`mock_job`) and runs it, with the Snakefile and library of the
repository copy the script is in (not those of an installed copy).

This is workflow code, not library code (the library imports no Snakemake and knows no rule names):
it lives beside the rules, in workflow/lib, which workflow/rules/common.smk puts on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from guided_retraining.errors import GuidedRetrainingError
from guided_retraining.runner import execute

_modules: dict[str, object] = {}
_lock = threading.Lock()


def load_script(script: Path):
    """The module of one entry script, imported once per process (jobs in threads share it)."""
    key = str(script.resolve())
    with _lock:
        if key not in _modules:
            spec = importlib.util.spec_from_file_location(f"gr_script_{script.stem}", script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[key] = module
        return _modules[key]


def run_script(basedir, rule, input, output, params, wildcards, threads, log) -> None:
    """Entry point used by every rule's ``run:`` block."""
    module = load_script(Path(basedir) / "scripts" / f"{rule}.py")
    job = SimpleNamespace(rule=rule, input=input, output=output, params=params, wildcards=wildcards,
                          threads=threads, log=log)
    execute(module.main, job)


def mock_job(target: str, configfiles=None, snakefile=None):
    """The job object of the job producing ``target``, built from the real workflow (for standalone runs).

    Like PyPSA-Eur's ``mock_snakemake``: the Snakefile is parsed with the given config files,
    the rule whose output pattern matches ``target`` is found, and its input, output, params
    and log are expanded for the matched wildcards.
    """
    from snakemake.api import SnakemakeApi
    from snakemake.iocontainers import Wildcards
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    snakefile = Path(snakefile or Path(__file__).resolve().parents[2] / "Snakefile").resolve()
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(c).resolve() for c in (configfiles or [])]),
            snakefile=snakefile,
            workdir=Path.cwd(),
        )
        workflow = workflow_api._workflow
        for rule in workflow.rules:
            if not rule.output or rule.name == "all" or not rule.is_producer(target):
                continue
            wildcards = rule.get_wildcards(target)
            input, _mapping, _deps, _incomplete = rule.expand_input(wildcards)
            output, _ = rule.expand_output(wildcards)
            params, _ = rule.expand_params(wildcards, input, output, None)
            log = rule.expand_log(wildcards)
            return SimpleNamespace(rule=rule.name, input=input, output=output, params=params,
                                   wildcards=Wildcards(fromdict=wildcards), threads=1, log=log)
    raise SystemExit(f"no rule of {snakefile} produces {target}")


def _use_library_of(root: Path) -> None:
    """Run this process on the library of the repository copy ``root`` (``root/src``): when another copy's
    (an installed one) was imported, re-execute the script with ``root/src`` first on PYTHONPATH, once."""
    import os

    import guided_retraining

    src = root / "src"
    here = Path(guided_retraining.__file__).resolve().parents[1]
    if not (src / "guided_retraining").is_dir() or here == src or os.environ.get("GR_STANDALONE_SRC") == str(src):
        return
    path = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONPATH": path,
                                                              "GR_STANDALONE_SRC": str(src)})


def standalone(main) -> None:
    """``python scripts/<rule>.py TARGET [--configfile FILE ...]``: run the job producing TARGET alone."""
    import argparse
    import inspect

    parser = argparse.ArgumentParser(description="Run one job of the workflow alone (for debugging).")
    parser.add_argument("target", help="an output file of this rule, e.g. results/digits/r1/original/model.pt")
    parser.add_argument("--configfile", action="append", default=[], help="config file(s), as for snakemake")
    args = parser.parse_args()
    root = Path(main.__code__.co_filename).resolve().parents[1]  # the copy of the repository the script is in
    _use_library_of(root)
    job = mock_job(args.target, args.configfile, snakefile=root / "Snakefile")
    try:
        execute(main, job)
    except GuidedRetrainingError as exc:
        sys.exit(f"{type(exc).__name__}: {exc}")
