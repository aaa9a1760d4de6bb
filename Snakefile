# guided-retraining: the study "Guiding the retraining of convolutional neural
# networks against adversarial inputs" as a Snakemake workflow.
#   snakemake --cores 8                              the default study (config/config.yaml)
#   snakemake --cores 8 --configfile config/X.yaml   another study
from snakemake.utils import min_version

min_version("9.0")


# The default study, unless config files are given with --configfile (which then replace it).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
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
