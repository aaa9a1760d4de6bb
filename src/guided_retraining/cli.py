"""``guided-retraining``: the workflow for those who do not use Snakemake directly.

    guided-retraining check   [CONFIG] [SNAKEMAKE ARGS]   validate the config and the data, count the jobs (dry run)
    guided-retraining run     [CONFIG] [SNAKEMAKE ARGS]   run the study (snakemake --cores all)
    guided-retraining summary [CONFIG] [SNAKEMAKE ARGS]   print {results}/summary.md (built first when missing)
    guided-retraining report  [CONFIG] [SNAKEMAKE ARGS]   build {results}/report.html from a finished run

CONFIG is a config file overriding the default study (config/config.yaml; see docs/configuration.md); left
out, the default study runs. Results go under the current directory, as with ``snakemake``. Any other argument
is passed to snakemake as it is (``--config repetitions=5``, ``--cores 4``, ``--workflow-profile profiles/slurm``).

Each command runs ``python -m snakemake --snakefile SNAKEFILE ...`` in a subprocess. The Snakefile is the one
of the repository copy this package was imported from (``pip install -e .`` or ``PYTHONPATH=src``): a wheel
holds the library only, so a non-editable install needs ``--snakefile PATH`` (or the environment variable
``GUIDED_RETRAINING_SNAKEFILE``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from .config_files import layered_config, load_config_file
from .errors import ConfigError, GuidedRetrainingError

COMMANDS = {
    "check": "validate the config and its data, and print the number of jobs the run would do (a dry run)",
    "run": "run the study (Snakemake with every core unless --cores N is given)",
    "summary": "print {results}/summary.md, building it first when it is missing",
    "report": "build the HTML report ({results}/report.html, or --output PATH) of a finished run",
}
EPILOG = ("CONFIG: a YAML file overriding the default study (docs/configuration.md); left out: the default study. "
          "Results go under the current directory. Every other argument is passed to snakemake, e.g. "
          "--config repetitions=5, --cores 4, --workflow-profile profiles/slurm.")


class CliError(GuidedRetrainingError):
    """A command cannot start (no Snakefile, no results yet, ...)."""


class WorkflowStopped(CliError):
    """The workflow stopped with its own one-line error (``guided-retraining: ...``), passed on as it is."""


def find_snakefile(given: str | None = None) -> Path:
    """The workflow to run: ``given`` (--snakefile), else $GUIDED_RETRAINING_SNAKEFILE, else the Snakefile of
    the repository copy this package was imported from (src/guided_retraining -> the copy's root)."""
    explicit = given or os.environ.get("GUIDED_RETRAINING_SNAKEFILE")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise CliError(f"snakefile {path}: not found")
        return path.resolve()
    path = Path(__file__).resolve().parents[2] / "Snakefile"
    if not path.is_file():
        raise CliError(f"no Snakefile beside the installed package ({Path(__file__).resolve().parent}); install"
                       " from a repository copy (pip install -e .) or give --snakefile PATH/TO/Snakefile")
    return path


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(prog="guided-retraining", epilog=EPILOG,
                                     description="Run the guided-retraining study (a Snakemake workflow).")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    subparsers = {}
    for name, text in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", epilog=EPILOG)
        p.add_argument("config", nargs="?", metavar="CONFIG", help="config file (default: the default study)")
        _options(p, name)
        subparsers[name] = p
    return parser, subparsers


def _options(p: argparse.ArgumentParser, command: str) -> None:
    p.add_argument("--snakefile", help="the workflow's Snakefile (default: the repository copy of this package)")
    if command in ("run", "summary"):
        p.add_argument("--cores", default="all", help="cores to use (default: all)")
    if command == "report":
        p.add_argument("--output", help="the report's path (default: {results}/report.html)")


def _split(argv: list[str], command: str) -> tuple[str | None, argparse.Namespace, list[str]]:
    """CONFIG (the first argument when it is not an option), this tool's options, the arguments for snakemake."""
    rest = list(argv)
    config = rest.pop(0) if rest and not rest[0].startswith("-") else None
    own = argparse.ArgumentParser(add_help=False)
    _options(own, command)
    options, extra = own.parse_known_args(rest)
    return config, options, extra


def _config_overrides(extra: list[str]) -> dict:
    """``--config key=value`` entries among the snakemake arguments (for the results directory)."""
    found, taking = {}, False
    for arg in extra:
        if arg == "--config":
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking and "=" in arg:
            key, _, value = arg.partition("=")
            found[key] = value
    return found


def results_dir(snakefile: Path, config: str | None, extra: list[str]) -> Path:
    """The run's results directory: the config's ``results`` (the default study's ``results``)."""
    effective = layered_config(snakefile.parent, [config] if config else [], _config_overrides(extra))
    return Path(str(effective.get("results", "results")))


def _snakemake(snakefile: Path, config: str | None, args: list[str], capture: bool = False):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile)]
    if config:
        cmd += ["--configfile", config]
    cmd += args
    return subprocess.run(cmd, capture_output=capture, text=True)


def _failed(proc) -> CliError:
    """The one line that says why snakemake stopped (the workflow's own error line when there is one)."""
    text = (proc.stderr or "") + (proc.stdout or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith("guided-retraining:")]
    if ours:
        return WorkflowStopped(ours[-1])
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    last = (errors or lines or ["(no output)"])[-1]
    return CliError(f"snakemake stopped (exit status {proc.returncode}): {last}")


def check(snakefile: Path, config: str | None, extra: list[str]) -> int:
    proc = _snakemake(snakefile, config, ["--dry-run", *extra], capture=True)
    if proc.returncode != 0:
        raise _failed(proc)
    text = proc.stdout + proc.stderr
    total = re.search(r"^total\s+(\d+)\s*$", text, flags=re.M)
    jobs = int(total.group(1)) if total else 0
    what = config or "the default study"
    print(f"{what}: config and data OK; {jobs} job{'s' if jobs != 1 else ''} to run"
          f"{' (nothing to be done)' if jobs == 0 else ''}")
    return 0


def run(snakefile: Path, config: str | None, options, extra: list[str]) -> int:
    proc = _snakemake(snakefile, config, ["--cores", str(options.cores), *extra])
    if proc.returncode == 0:
        summary = results_dir(snakefile, config, extra) / "summary.md"
        if summary.is_file():
            print(f"guided-retraining: summary of the results: {summary} (guided-retraining summary"
                  f"{' ' + config if config else ''} prints it)")
    return proc.returncode


def summary(snakefile: Path, config: str | None, options, extra: list[str]) -> int:
    path = results_dir(snakefile, config, extra) / "summary.md"
    if not path.is_file():
        proc = _snakemake(snakefile, config, ["--cores", str(options.cores), str(path), *extra], capture=True)
        if proc.returncode != 0 or not path.is_file():
            reason = (str(_failed(proc)).removeprefix("guided-retraining: ") if proc.returncode != 0
                      else "the workflow did not write it")
            raise CliError(f"{path}: not found and could not be built ({reason}); run guided-retraining run"
                           f"{' ' + config if config else ''} first")
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


def report(snakefile: Path, config: str | None, options, extra: list[str]) -> int:
    path = Path(options.output) if options.output else results_dir(snakefile, config, extra) / "report.html"
    proc = _snakemake(snakefile, config, ["--report", str(path), *extra], capture=True)
    if proc.returncode != 0:
        raise _failed(proc)
    print(f"guided-retraining: report written to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, subparsers = _parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # --help, or argparse's one-line error for an unknown command
        parser.print_help()
        return 2
    command, rest = argv[0], argv[1:]
    if "-h" in rest or "--help" in rest:
        subparsers[command].print_help()
        return 0
    config, options, extra = _split(rest, command)
    try:
        if config is not None:
            load_config_file(config)  # a missing or unreadable file: one line, before Snakemake starts
        snakefile = find_snakefile(options.snakefile)
        if command == "check":
            return check(snakefile, config, extra)
        return {"run": run, "summary": summary, "report": report}[command](snakefile, config, options, extra)
    except WorkflowStopped as exc:
        print(exc, file=sys.stderr)
        return 1
    except GuidedRetrainingError as exc:
        kind = "config error" if isinstance(exc, ConfigError) else "error"
        print(f"guided-retraining: {kind}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
