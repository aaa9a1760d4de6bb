# guided-retraining: the study "Guiding the retraining of convolutional neural
# networks against adversarial inputs" as a Snakemake workflow.
#   snakemake --cores 8                              the default study (config/config.yaml)
#   snakemake --cores 8 --configfile config/X.yaml   another study (it overrides the default's keys)
#   snakemake --cores 8 --config repetitions=5       the default study with one value changed
# The config is built in workflow/rules/common.smk: config/config.yaml beside this file is always the
# base, then each --configfile in order, then --config (guided_retraining.config_files, docs/configuration.md).
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/params.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/retrain.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/defences.smk"
include: "workflow/rules/deepcustom.smk"
include: "workflow/rules/objectives.smk"
include: "workflow/rules/summary.smk"


# Quick rules that read small files: on a cluster they run on the submitting host, not as jobs.
localrules:
    all,
    order,
    aggregate,
    defence_table,
    deepcustom_table,
    training_curves,
    objectives,
    summary,
    report_pages,


rule all:
    default_target: True
    input:
        aggregate_outputs(),
        training_outputs(),
        defence_outputs(),
        deepcustom_outputs(),
        objectives_outputs(),
        summary_outputs(),
