# Shared helpers: config validation, wildcard constraints, path and parameter
# helpers, and the entry point of every rule's run: block.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from guided_retraining.architectures import last_hidden
from guided_retraining.config import check_or_exit
from guided_retraining.resources import estimate
from guided_retraining.runner import run_script

# Schema (types, ranges, unknown keys, defaults) and semantic checks, data on disk included
# (except in dry runs, which only plan): a bad config stops here with one line, before any job.
def is_dry_run():
    """True for `snakemake -n` (the executor is not known yet while the Snakefile is parsed)."""
    flags = [a for a in sys.argv[1:] if a.startswith("-") and not a.startswith("--")]
    return workflow.dryrun or any(a in ("--dry-run", "--dryrun") for a in sys.argv) or any("n" in f for f in flags)


check_or_exit(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml", check_data=not is_dry_run())

R = config["results"]
CONFIGURATIONS = config["configurations"]
N_POINTS = config["retrain"]["data_points"]
POINTS = [f"p{k:0{len(str(N_POINTS))}d}" for k in range(1, N_POINTS + 1)]


wildcard_constraints:
    dataset=r"[A-Za-z0-9_]+",
    attack=r"[A-Za-z0-9_]+",
    metric=r"[A-Za-z0-9_]+",
    layer=r"[A-Za-z0-9_.]+",
    configuration=r"C[123]",
    point=r"p\d+|atc3",


def run(rule, input, output, params, wildcards, threads, log):
    """Call scripts/<rule>.py's main() in this process (see guided_retraining.runner)."""
    run_script(workflow.basedir, rule, input, output, params, wildcards, threads, log)


def dataset_config(w):
    return config["datasets"][w.dataset]


def arch_param(w):
    """The dataset's architecture; a user's model also carries its source file's sha256, so editing
    the model file re-runs the jobs that build it."""
    arch = dataset_config(w)["arch"]
    if not isinstance(arch, dict):
        return arch
    from guided_retraining.models.user import code_digest

    return {**arch, "code": code_digest(arch)}


def retrain_settings(w):
    """Training settings of retraining: the dataset's, overridden by retrain.train."""
    return {**dataset_config(w)["train"], **config["retrain"]["train"]}


def metric_kind(metric):
    return config["metrics"][metric].get("kind", metric)


def metric_layers(metric, dataset):
    """Real layer names read by a metric (the alias last_hidden resolved for the dataset's model)."""
    arch = config["datasets"][dataset]["arch"]
    names = config["metrics"][metric].get("layers", [])
    return [last_hidden(arch) if n == "last_hidden" else n for n in names]


def retrain_points(configuration):
    """Data-point wildcards of a configuration; C2 also runs at C3's total (Table 4)."""
    extra = ["atc3"] if configuration == "C2" and "C3" in CONFIGURATIONS else []
    return POINTS + extra


def retrain_outputs(dataset, attack):
    return [
        f"{R}/{dataset}/{attack}/retrain/{c}/{m}/{p}.json"
        for c in CONFIGURATIONS
        for m in config["metrics"]
        for p in retrain_points(c)
    ]


def grid():
    return [(d, a) for d in config["datasets"] for a in config["attacks"]]


def config_source():
    """Names the config a table came from: the config file names and a digest of the effective config."""
    import hashlib, json

    names = ", ".join(Path(c).name for c in workflow.configfiles) or "config.yaml"
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{names} (effective config sha256 {digest})"


def resources_of(rule):
    """mem_mb and runtime (minutes) of a rule's jobs, from the dataset's size (guided_retraining.resources)."""

    def of(w):
        return estimate(rule, config["datasets"][w.dataset] if "dataset" in w.keys() else None)

    return {"mem_mb": lambda w: of(w)["mem_mb"], "runtime": lambda w: of(w)["runtime"]}
