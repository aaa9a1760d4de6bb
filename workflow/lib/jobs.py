"""The workflow's job plumbing: run a rule's entry script inside Snakemake, or alone for debugging.

Inside Snakemake, each rule's ``run:`` block calls :func:`run_script` (through ``run`` in
workflow/rules/common.smk), which imports ``scripts/<rule>.py`` once and calls its ``main(job, log)``
through :func:`guided_retraining.runner.execute`. With the default profile's ``force-use-threads`` the
jobs of a local run are threads of the Snakemake process, so torch is imported once instead of once per
job; on a cluster each job is its own process and runs the same code.

Alone, ``python scripts/<rule>.py TARGET [--configfile FILE]`` runs the job that produces ``TARGET``
through Snakemake's public API in this process (see :func:`run_target`: that job only, on its inputs as
they are), with the Snakefile and library of the repository copy the script is in (not those of an
installed copy).

This is workflow code, not library code (the library imports no Snakemake and knows no rule names):
it lives beside the rules, in workflow/lib, which workflow/rules/common.smk puts on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

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
    module = load_script(Path(basedir) / "scripts" / f"{script_of(rule)}.py")
    job = SimpleNamespace(rule=rule, input=input, output=output, params=params, wildcards=wildcards,
                          threads=threads, log=log)
    execute(module.main, job)


# Rules declared as a variant of another with `use rule ... with:` run the other rule's script.
VARIANT_OF = {"prepare_repetition": "prepare", "evaluate_transfer": "evaluate_defence"}


def script_of(rule: str) -> str:
    """The entry script (``scripts/<name>.py``) a rule runs: its own, or that of the rule it is a variant of."""
    return VARIANT_OF.get(rule, rule)


def rules_of(script: str) -> set[str]:
    """The rules that run ``scripts/<script>.py``: the rule of that name and its variants."""
    return {script} | {rule for rule, base in VARIANT_OF.items() if base == script}


def run_target(target: str, rules, configfiles=(), snakefile=None) -> bool:
    """Run the job producing ``target`` through Snakemake's public API, in this process: the target forced,
    only ``rules`` allowed (the job's inputs are used as they are on disk, nothing upstream re-runs), one core
    and Snakemake's debug mode, so a breakpoint in the script stops in your debugger. True when it succeeded."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (ConfigSettings, DAGSettings, ExecutionSettings, OutputSettings,
                                          ResourceSettings)

    snakefile = Path(snakefile or Path(__file__).resolve().parents[2] / "Snakefile").resolve()
    with SnakemakeApi(OutputSettings()) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(c).resolve() for c in configfiles]),
            snakefile=snakefile,
            workdir=Path.cwd(),
        )
        dag_api = workflow_api.dag(DAGSettings(targets={target}, forcetargets=True, allowed_rules=set(rules)))
        try:
            # debug: Snakemake runs the job in the main thread with the terminal's stdin (for pdb)
            debug = sys.stdin is not None and sys.stdin.isatty()
            dag_api.execute_workflow(executor="local", execution_settings=ExecutionSettings(debug=debug))
        except Exception as exc:  # Snakemake has logged the job's error; say which target failed
            print(f"{target}: not made ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                  file=sys.stderr)
            return False
    return Path(target).exists()


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

    parser = argparse.ArgumentParser(description="Run one job of the workflow alone (for debugging).")
    parser.add_argument("target", help="an output file of this rule, e.g. results/digits/r1/original/model.pt")
    parser.add_argument("--configfile", action="append", default=[], help="config file(s), as for snakemake")
    args = parser.parse_args()
    root = Path(main.__code__.co_filename).resolve().parents[1]  # the copy of the repository the script is in
    _use_library_of(root)
    script = Path(main.__code__.co_filename).stem
    if not run_target(args.target, rules_of(script), args.configfile, snakefile=root / "Snakefile"):
        sys.exit(1)
