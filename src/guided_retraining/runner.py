"""Run one job's ``main(job, log)``: its log file, thread count, determinism and error policy.

``job`` is any object with ``rule``, ``input``, ``output``, ``params``, ``wildcards``, ``threads`` and
``log`` (Snakemake's, or one a test builds); this module knows nothing of Snakemake or of the workflow's
rules. How the workflow finds a rule's script and builds its job object (in-process ``run:`` blocks,
standalone runs of a script) is the workflow's own plumbing: workflow/lib/jobs.py.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from pathlib import Path

from .errors import ConfigError, GuidedRetrainingError
from .io import AST_LOCK

_settings = {"deterministic": True}


def configure(deterministic: bool = True) -> None:
    """Process-wide settings of the jobs this process runs, from the config (called by the Snakefile,
    which every job's process parses): ``deterministic`` (see :mod:`guided_retraining.hardware`)."""
    _settings["deterministic"] = bool(deterministic)


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
    from .plugins import load_config

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
        # a plugin's loaders, attack kinds, metrics and tables, before the job reads a registry (the rule's
        # params plugins / extra_tables; jobs in the Snakemake process have them already: a no-op there)
        load_config({key: getattr(job.params, key, None) for key in ("plugins", "extra_tables")})
        try:
            main(job, log)
        except RuntimeError as exc:
            raise nondeterministic_kernel(exc) or exc
    except GuidedRetrainingError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        raise exc.with_traceback(None) from None
    except Exception as exc:
        with AST_LOCK:  # Python 3.11's traceback parses the failing lines (io.AST_LOCK)
            trace = traceback.format_exc()
        log.error("%s: %s\n%s", type(exc).__name__, exc, trace)
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


