# Shared helpers: config validation, wildcard constraints, path and parameter
# helpers, and the entry point of every rule's run: block.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
# The workflow's own Python (job plumbing, code digests, job costs) is in workflow/lib, not the library
sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "lib"))

from guided_retraining.model_layers import last_hidden
from guided_retraining.kinds import needs_generators
from guided_retraining.plugins import load_config as load_plugins
from guided_retraining import table_registry
from guided_retraining.config import (
    check_device_or_exit,
    check_or_exit,
    _or_exit as config_or_exit,
)
from guided_retraining.config_files import apply_layered_config_or_exit
from guided_retraining.metrics import METRICS
from guided_retraining.resources import estimate
from guided_retraining.retraining import budget_point, is_budget
from guided_retraining.runner import configure
from guided_retraining.seeding import repetition_seed
from code_digest import code_digest
from job_costs import JOB_COSTS
from jobs import run_script

# The config: the default study (config/config.yaml beside the Snakefile) overridden by each --configfile,
# then --config key=value; collections (datasets, attacks, metrics) given later replace, settings sections merge.
apply_layered_config_or_exit(config, workflow)
# The config's plugins (and extra_tables): modules registering loaders, attack kinds, metrics and tables of the
# user's own (guided_retraining.plugins), imported before the checks so that their names are known there.
config_or_exit(lambda: load_plugins(config))


# Schema (types, ranges, unknown keys, defaults) and semantic checks, data on disk included (dry runs too):
# a bad config stops here with one line, before any job. Whether a model fits its data (it reads the
# original weights) is checked in real runs only: in onstart, which Snakemake runs after planning and
# before the first job, never in dry runs (Snakemake has no public way to tell a dry run while the
# Snakefile is parsed).
check_or_exit(
    config,
    Path(workflow.basedir) / "workflow/schemas/config.schema.yaml",
    check_model=False,
)


# The device is a property of the machine that runs the jobs: checked before the first job of a local
# run (onstart: after planning, before any job; not in dry runs). On a cluster the submit host is not
# where the jobs run (its GPUs, or none, say nothing of the nodes'): there a job on a node without a GPU
# stops with the same one-line error when it resolves the device (guided_retraining.training.resolve_device).
onstart:
    check_or_exit(
        config,
        Path(workflow.basedir) / "workflow/schemas/config.schema.yaml",
        check_model=True,
    )
    if workflow.local_exec and not workflow.remote_exec:
        check_device_or_exit(config)


# Process-wide settings of the jobs (guided_retraining.hardware): every job's process parses this file.
configure(deterministic=config["deterministic"])

R = config["results"]
CONFIGURATIONS = config["configurations"]
N_POINTS = config["retrain"]["data_points"]
POINTS = [f"p{k:0{len(str(N_POINTS))}d}" for k in range(1, N_POINTS + 1)]
# Fixed-budget endpoints (aggregate.budgets): a retraining point of their own, f<fraction> or n<count>
BUDGETS = [budget_point(b) for b in config["aggregate"]["budgets"]]
# Repetitions 1..N of everything from the original model on: the `rep` wildcard, results/{dataset}/r{rep}/...
REPS = list(range(1, config["repetitions"] + 1))


wildcard_constraints:
    dataset=r"[A-Za-z0-9_]+",
    attack=r"[A-Za-z0-9_]+",
    metric=r"[A-Za-z0-9_]+",
    layer=r"[A-Za-z0-9_.]+",
    configuration=r"C[123]",
    point=r"p\d+|atc3|f[0-9.]+|n\d+",
    rep=r"\d+",


def run(rule_name, input, output, params, wildcards, threads, log):
    """Call scripts/<rule>.py's main() in this process (workflow/lib/jobs.py; a variant of another rule
    runs that rule's script: jobs.VARIANT_OF)."""
    run_script(
        workflow.basedir, rule_name, input, output, params, wildcards, threads, log
    )


def code_of(rule_name):
    """Digest of scripts/<rule>.py and the library modules it imports: a rule's `code` param, so that
    editing them marks its jobs outdated (Snakemake's params trigger; see workflow/lib/code_digest.py).
    """
    return code_digest(workflow.basedir, rule_name)


def rep_seed(w):
    """The seed of repetition ``w.rep`` (repetition 1 uses the config's seed itself; guided_retraining.seeding)."""
    return repetition_seed(config["seed"], int(w.rep))


def data_file(w):
    """The prepared split a repetition uses: one for all, or its own with split.per_repetition."""
    if dataset_config(w)["split"].get("per_repetition", False):
        return path("repetition_data", w)
    return path("data", w)


def dataset_config(w):
    return config["datasets"][w.dataset]


def arch_param(w):
    """The dataset's architecture; a user's model also carries its source file's sha256, so editing
    the model file re-runs the jobs that build it."""
    arch = dataset_config(w)["arch"]
    if not isinstance(arch, dict):
        return arch
    from guided_retraining.models.user import model_file_digest

    return {**arch, "sha256": model_file_digest(arch)}


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
    """Data-point wildcards of a configuration; C2 also runs at C3's total (Table 4); every configuration
    at each budget (aggregate.budgets)."""
    extra = ["atc3"] if configuration == "C2" and "C3" in CONFIGURATIONS else []
    return POINTS + extra + BUDGETS


def retrain_outputs(dataset, attack, rep):
    return [
        path(
            "retrain",
            dataset=dataset,
            rep=rep,
            attack=attack,
            configuration=c,
            metric=m,
            point=p,
        )
        for c in CONFIGURATIONS
        for m in config["metrics"]
        for p in retrain_points(c)
    ]


def grid():
    return [(d, a) for d in config["datasets"] for a in config["attacks"]]


def shift_kinds():
    """name -> kind of the grid's entries that are distribution shifts, not attacks (the tables say "shift")."""
    from guided_retraining.shifts import is_shift

    return {a: e["kind"] for a, e in config["attacks"].items() if is_shift(e["kind"])}


def config_source():
    """Names the config a table came from: the config file names and a digest of the effective config."""
    import hashlib, json

    names = ", ".join(Path(c).name for c in workflow.configfiles) or "config.yaml"
    digest = hashlib.sha256(
        json.dumps(config, sort_keys=True, default=str).encode()
    ).hexdigest()[:12]
    return f"{names} (effective config sha256 {digest})"


def resources_of(kind):
    """mem_mb and runtime (minutes) of a rule's jobs of this kind (workflow/lib/job_costs.py), from the
    dataset's size (the formula: guided_retraining.resources.estimate)."""

    def of(w):
        return estimate(
            JOB_COSTS[kind],
            config["datasets"][w.dataset] if "dataset" in w.keys() else None,
        )

    return {"mem_mb": lambda w: of(w)["mem_mb"], "runtime": lambda w: of(w)["runtime"]}


def score_inputs(w):
    """What the metric reads (its registry entry): softmax, layers, labels, the model."""
    reads = METRICS[metric_kind(w.metric)].reads
    inputs = {"softmax": path("activations", w, layer="softmax")}
    for layer in metric_layers(w.metric, w.dataset):
        inputs[f"layer_{layer}"] = path("activations", w, layer=layer)
    if "labels" in reads or "model" in reads:
        inputs["data"] = data_file(w)
    if "model" in reads:
        inputs["model"] = path("original_model", w)
        inputs["adversarial"] = path("adversarial", w)
    return inputs


# The result tables and figures: declared in guided_retraining.table_registry (with the config's extra_tables).
# file stem -> (caption for report(), label shown in the report)
REPORT_TABLES = table_registry.report_tables("aggregate")
REPORT_FIGURES = {
    f.name: (f"../report/{f.caption}.rst", f.title)
    for f in table_registry.FIGURES.values()
}


def aggregate_outputs():
    """Tables (CSV, Markdown) over the grid; figures (PNG, PDF) per dataset and attack."""
    tables = [
        f"{R}/tables/{table.name}.{ext}"
        for table in table_registry.of_rule("aggregate")
        for ext in ("csv", "json", "md")
    ]
    figures = [
        f"{R}/figures/{name}_{d}_{a}.{ext}"
        for d, a in grid()
        for name in REPORT_FIGURES
        for ext in ("png", "pdf")
    ]
    return tables + figures


# Report categories, named so that the report (which sorts them alphabetically) lists them in this order
REPORT_CATEGORIES = {
    "summary": "1 Summary",
    "tables": "2 Tables",
    "figures": "3 Figures",
    "training": "4 Training",
}
# the report's tables in their order (table_registry: the study's tables first, then the statistics, then the rest)
REPORT_TABLE_ORDER = table_registry.report_order()


def numbered(names):
    """name -> its place in the report ("1." ... ), zero-padded so that sorting the labels keeps the order."""
    width = len(str(len(names)))
    return {name: f"{i:0{width}d}." for i, name in enumerate(names, 1)}


def all_report_tables():
    """Name -> (caption, title) of every table the report shows: the aggregate's and the objectives'."""
    return {**REPORT_TABLES, **OBJECTIVES_TABLES}


def report_entries():
    """Path -> report() arguments of every output shown in the report: the tables and figures as HTML pages
    (rule report_pages), numbered in the order the report lists them."""
    shown = all_report_tables()
    tables = numbered(
        [n for n in REPORT_TABLE_ORDER if n in shown]
        + [n for n in shown if n not in REPORT_TABLE_ORDER]
    )
    entries = {
        f"{R}/report/{name}.html": dict(
            caption=caption,
            category=REPORT_CATEGORIES["tables"],
            labels={"table": f"{tables[name]} {title}"},
        )
        for name, (caption, title) in shown.items()
    }
    figures = numbered(list(REPORT_FIGURES) + list(OBJECTIVES))
    for d, a in grid():
        for name, (caption, title) in REPORT_FIGURES.items():
            # dataset and attack: the subcategory (labels for them would widen the menu beside the figure)
            entries[f"{R}/report/{name}_{d}_{a}.html"] = dict(
                caption=caption,
                category=REPORT_CATEGORIES["figures"],
                subcategory=f"{d}, {a}",
                labels={"figure": f"{figures[name]} {title}"},
            )
    for o, d in objectives_figures():
        entries[f"{R}/report/objectives_{o}_{d}.html"] = dict(
            caption="../report/objectives_figure.rst",
            category=REPORT_CATEGORIES["figures"],
            subcategory=f"{d}, objectives",
            labels={"figure": f"{figures[o]} {OBJECTIVE_TITLES[o]}"},
        )
    return entries


def in_report(paths):
    """``paths`` with the ones listed by report_entries() flagged for the report."""
    entries = report_entries()
    return [report(p, **entries[p]) if p in entries else p for p in paths]


def summary_outputs():
    """summary.md, its report versions and the report's HTML pages of the tables and figures."""
    return (
        [
            f"{R}/summary.md",
            f"{R}/report/summary.rst",
            f"{R}/report/summary.html",
        ]
        + report_table_pages()
        + report_figure_pages()
    )


def report_table_pages():
    return [f"{R}/report/{name}.html" for name in all_report_tables()]


def report_figures():
    """(PNG, report page, title) of every figure in the report's Figures."""
    return [
        (
            f"{R}/figures/{name}_{d}_{a}.png",
            f"{R}/report/{name}_{d}_{a}.html",
            f"{title}: {d}, {a}",
        )
        for d, a in grid()
        for name, (caption, title) in REPORT_FIGURES.items()
    ] + [
        (
            f"{R}/figures/objectives_{o}_{d}.png",
            f"{R}/report/objectives_{o}_{d}.html",
            f"{OBJECTIVE_TITLES[o]}: {d}",
        )
        for o, d in objectives_figures()
    ]


def report_figure_pages():
    return [page for _, page, _ in report_figures()]


DEFENCES = ["none", "adversarial_training", "feature_squeezing", "guided"]
# the defended models trained from scratch by rule defend (their epochs are drawn by rule training_curves)
TRAINED_DEFENCES = ["adversarial_training", "feature_squeezing"]


def training_models(dataset):
    """Model name -> training JSON (repetition 1) drawn in the training graphs: the original model and,
    with a defences section, the adversarially trained and squeezed models."""
    models = {"original": path("original_summary", dataset=dataset, rep=1)}
    if config.get("defences"):
        models.update(
            {
                d: path("defence_summary", dataset=dataset, rep=1, defence=d)
                for d in TRAINED_DEFENCES
            }
        )
    return models


def training_outputs():
    """The training graphs (PNG, PDF), one per dataset."""
    return [
        f"{R}/figures/training_{d}.{ext}"
        for d in config["datasets"]
        for ext in ("png", "pdf")
    ]


def defence_model(w):
    if w.defence == "none":
        return path("original_model", w)
    return path("defence_model", w)


def defence_outputs():
    if not config.get("defences"):
        return []
    return [
        f"{R}/tables/{t}.{ext}"
        for t in ("defences", "defences_transfer")
        for ext in ("csv", "json", "md")
    ] + [
        f"{R}/figures/defences_{d}.{ext}"
        for d in config["datasets"]
        for ext in ("png", "pdf")
    ]


# Seed 003 (DeepCustom), workflow/rules/deepcustom.smk
def is_dgn(attack):
    """The attack's kind needs generators (its declaration's needs_generators: dgn), trained by rule train_dgn."""
    return attack in needs_generators(config)


def dgn_generators(w):
    """The generators file of a dgn attack (the attack rule's and robust rules' extra input); none for the others."""
    attack = getattr(w, "attack", None) or getattr(w, "eval_attack")
    return (
        [f"{R}/{w.dataset}/r{w.rep}/{attack}/generators.pt"] if is_dgn(attack) else []
    )


def robust_names():
    """The attacks of the matrix's adversarially trained models (deepcustom.robust; none: no matrix)."""
    return config["deepcustom"].get("robust", [])


def deepcustom_stored():
    """The robust models train on adversarial data stored once against the original (the seed's protocol)."""
    return config["deepcustom"].get("adversarial_data", "stored") == "stored"


def deepcustom_protocols():
    """The matrices: transfer (the seed's: stored Adv.Test made against the original), whitebox as an option."""
    return ["transfer"] + (
        ["whitebox"] if config["deepcustom"].get("whitebox", False) else []
    )


def deepcustom_matrix_name(protocol):
    return "deepcustom" if protocol == "transfer" else f"deepcustom_{protocol}"


def deepcustom_outputs():
    if not robust_names():
        return []
    names = [deepcustom_matrix_name(p) for p in deepcustom_protocols()]
    return [
        f"{R}/tables/{name}.{ext}"
        for name in names
        + [f"suspiciousness_{d}_r{rep}" for d in config["datasets"] for rep in REPS]
        for ext in ("csv", "json", "md")
    ] + [
        f"{R}/figures/{name}_{d}.{ext}"
        for name in names
        for d in config["datasets"]
        for ext in ("png", "pdf")
    ]


def deepcustom_model(w):
    if w.robust == "original":
        return path("original_model", w)
    return path("deepcustom_model", w)


# The objectives of test selection (workflow/rules/objectives.smk)
from types import SimpleNamespace

from guided_retraining.objectives import OBJECTIVES, config_budgets

# the budgets of fault detection and estimation (no retraining); retraining guidance's are BUDGETS (aggregate.budgets)
OBJECTIVE_BUDGETS = [budget_point(b) for b in config_budgets(config)]


def objectives_outputs():
    """The objectives table (CSV, Markdown) and one heat map per objective and dataset (PNG, PDF)."""
    return [
        f"{R}/tables/{t}.{ext}"
        for t in ("objectives", "objectives_overview")
        for ext in ("csv", "json", "md")
    ] + [
        f"{R}/figures/objectives_{o}_{d}.{ext}"
        for o, d in objectives_figures()
        for ext in ("png", "pdf")
    ]


OBJECTIVES_TABLES = table_registry.report_tables("objectives")
OBJECTIVE_TITLES = {
    "fault_detection": "Fault detection: gain over random (APFD, faults found)",
    "estimation": "Performance estimation: gain over random (absolute error)",
    "retraining": "Retraining guidance: gain over random at fixed budgets",
}


def objectives_figures():
    """(objective, dataset) of every objectives heat map."""
    return [(o, d) for d in config["datasets"] for o in OBJECTIVES]


def objectives_cases():
    return [(d, a, rep) for d, a in grid() for rep in REPS]
