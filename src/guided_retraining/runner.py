"""Run the workflow's entry scripts: inside Snakemake, or alone for debugging.

Inside Snakemake, each rule's ``run:`` block calls :func:`run_script`, which imports
``scripts/<rule>.py`` once and calls its ``main(job, log)``. With the default profile's
``force-use-threads`` the jobs of a local run are threads of the Snakemake process,
so torch is imported once instead of once per job (about 4 s each); on a cluster
each job is its own process and runs the same code.

Alone, ``python scripts/<rule>.py TARGET [--configfile FILE]`` builds the same job
object for the job that produces ``TARGET`` (see :func:`mock_job`) and runs it, with the Snakefile and
library of the repository copy the script is in (not those of an installed copy).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

from .errors import ConfigError, GuidedRetrainingError

_modules: dict[str, object] = {}
_lock = threading.Lock()
_settings = {"deterministic": True}


def configure(deterministic: bool = True) -> None:
    """Process-wide settings of the jobs this process runs, from the config (called by the Snakefile,
    which every job's process parses): ``deterministic`` (see :mod:`guided_retraining.hardware`)."""
    _settings["deterministic"] = bool(deterministic)


def _load(script: Path):
    key = str(script.resolve())
    with _lock:
        if key not in _modules:
            spec = importlib.util.spec_from_file_location(f"gr_script_{script.stem}", script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[key] = module
        return _modules[key]


def job_logger(path: str | None, name: str) -> logging.Logger:
    """A logger of its own for one job, writing to the job's log file (or stderr)."""
    log = logging.getLogger(f"guided_retraining.job.{name}")
    log.handlers.clear()
    log.propagate = False
    log.setLevel(logging.INFO)
    handler: logging.Handler
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, mode="w")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    return log


def execute(main, job) -> None:
    """Call ``main(job, log)`` with a job logger; log and re-raise any error.

    An error the project raises on purpose (:class:`~guided_retraining.errors.GuidedRetrainingError`: bad
    data, bad config, an unfit model) is logged as its one line and re-raised without the frames below
    this one, so the job log (which the profile's ``show-failed-logs`` prints) and Snakemake's report hold
    the line, not a traceback; any other exception is logged with its traceback."""
    log_path = job.log[0] if len(job.log) else None
    name = job.output[0] if len(job.output) else job.rule
    log = job_logger(log_path, str(name))
    from .hardware import device_note, set_deterministic

    # once per process (a no-op for later jobs): before the job's code touches CUDA or cuBLAS
    set_deterministic(getattr(job.params, "deterministic", _settings["deterministic"]))
    if "torch" in sys.modules:  # the job's own thread count (OpenMP's is per calling thread)
        sys.modules["torch"].set_num_threads(max(int(getattr(job, "threads", 1) or 1), 1))
    start, cpu = time.perf_counter(), time.thread_time()
    log.info("rule %s, wildcards %s", job.rule, dict(job.wildcards.items()))
    note = device_note(getattr(job.params, "device", None))
    if note:
        log.warning(note)
    try:
        try:
            main(job, log)
        except RuntimeError as exc:
            raise nondeterministic_kernel(exc) or exc
    except GuidedRetrainingError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        raise exc.with_traceback(None) from None
    except Exception as exc:
        log.error("%s: %s\n%s", type(exc).__name__, exc, traceback.format_exc())
        raise
    finally:
        log.info("done in %.2f s (cpu %.2f s)", time.perf_counter() - start, time.thread_time() - cpu)
        for h in list(log.handlers):
            h.close()
            log.removeHandler(h)


def nondeterministic_kernel(exc: RuntimeError) -> ConfigError | None:
    """The one-line config error for torch's refusal of an operation that has no deterministic CUDA
    kernel under ``deterministic: true`` (``torch.use_deterministic_algorithms``; e.g. the backward pass
    of ``nn.AdaptiveAvgPool2d`` in a user's model), None for any other RuntimeError."""
    text = str(exc)
    if "does not have a deterministic implementation" not in text:
        return None
    operation = text.split(" does not have a deterministic implementation")[0].strip().splitlines()[-1]
    return ConfigError(f"deterministic: true, but torch has no deterministic kernel for {operation}, an operation"
                       " of this job; set deterministic: false to run it (identical GPU runs may then differ)")


def run_script(basedir, rule, input, output, params, wildcards, threads, log) -> None:
    """Entry point used by every rule's ``run:`` block."""
    module = _load(Path(basedir) / "scripts" / f"{rule}.py")
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
