# The field's three objectives of test selection (fault detection, performance estimation, retraining
# guidance) per metric and attack or shift, against random: from the files the study already wrote.
from types import SimpleNamespace

OBJECTIVES = ["fault_detection", "estimation", "retraining"]
# the budgets of fault detection and estimation (no retraining); retraining guidance's are BUDGETS (aggregate.budgets)
OBJECTIVE_BUDGETS = [budget_point(b) for b in config["objectives"]["budgets"]]


def objectives_outputs():
    """The objectives table (CSV, Markdown) and one heat map per objective and dataset (PNG, PDF)."""
    return [f"{R}/tables/objectives.{ext}" for ext in ("csv", "md")] + [
        f"{R}/figures/objectives_{o}_{d}.{ext}"
        for o in OBJECTIVES
        for d in config["datasets"]
        for ext in ("png", "pdf")
    ]


def objectives_report(path):
    """``path`` flagged for the report: the table and the PNG heat maps, with their captions."""
    if path.endswith(".csv"):
        return report(
            path,
            caption="../report/objectives.rst",
            category="Tables",
            labels={"table": "Objectives: fault detection, estimation, retraining"},
        )
    if path.endswith(".png"):
        stem = Path(path).stem.removeprefix("objectives_")
        objective = next(o for o in OBJECTIVES if stem.startswith(f"{o}_"))
        dataset = stem.removeprefix(f"{objective}_")
        return report(
            path,
            caption="../report/objectives_figure.rst",
            category="Objectives",
            labels={"objective": objective, "dataset": dataset},
        )
    return path


def objectives_cases():
    return [(d, a, rep) for d, a in grid() for rep in REPS]


rule objectives:
    """Fault detection (APFD, share of misclassified inputs found per budget) and performance estimation
    (absolute error of the accuracy estimated on the first b inputs) of every metric's order, with the
    retraining results at the budget points: paired over repetitions against random (Holm per objective
    and budget); one table, one heat map per objective and dataset."""
    input:
        softmax=[
            f"{R}/{d}/r{rep}/{a}/activations/softmax.npz"
            for d, a, rep in objectives_cases()
        ],
        data=[
            data_file(SimpleNamespace(dataset=d, rep=rep))
            for d, a, rep in objectives_cases()
        ],
        adversarial=[
            f"{R}/{d}/r{rep}/{a}/adversarial.npz" for d, a, rep in objectives_cases()
        ],
        orders=[
            f"{R}/{d}/r{rep}/{a}/orders/{m}.npz"
            for d, a, rep in objectives_cases()
            for m in config["metrics"]
        ],
        retrain=[
            f"{R}/{d}/r{rep}/{a}/retrain/{c}/{m}/{b}.json"
            for d, a, rep in objectives_cases()
            for c in CONFIGURATIONS
            for m in config["metrics"]
            for b in BUDGETS
        ],
    output:
        [objectives_report(p) for p in objectives_outputs()],
    log:
        f"{R}/logs/objectives.log",
    resources:
        **resources_of("aggregate"),
    params:
        code=code_of("objectives"),
        source=config_source(),
        grid=grid(),
        reps=REPS,
        metrics=list(config["metrics"]),
        budgets=OBJECTIVE_BUDGETS,
        results=lambda w, output: str(Path(output[0]).parents[1]),
    run:
        run(rule, input, output, params, wildcards, threads, log)
