"""Where every result file lives: one pattern per kind of file, relative to the results directory.

Rules take their outputs and inputs from :func:`result_path` instead of re-spelling paths, so a path is
written once. A pattern's ``{name}`` fields are Snakemake wildcards: ``result_path(R, "original_model")``
is the output pattern of rule train_original and the input of every rule that reads the original model
(Snakemake fills the fields from the job's wildcards); values given fill fields now
(``result_path(R, "adversarial", attack="{eval_attack}")`` renames a wildcard,
``result_path(R, "adversarial", w, attack=a)`` is one file for the job ``w``).
"""

from __future__ import annotations

from string import Formatter

RUN = "{dataset}/r{rep}"
CASE = RUN + "/{attack}"

PATTERNS = {
    # prepare: one split for all repetitions, or (split.per_repetition) one per repetition
    "data": "{dataset}/data.npz",
    "data_summary": "{dataset}/data.json",
    "repetition_data": RUN + "/data.npz",
    "repetition_data_summary": RUN + "/data.json",
    # the original model of a repetition
    "original_model": RUN + "/original/model.pt",
    "original_summary": RUN + "/original/train.json",
    # one attack (or shift) against the original model, and what follows from it
    "adversarial": CASE + "/adversarial.npz",
    "attack_summary": CASE + "/attack.json",
    "activations": CASE + "/activations/{layer}.npz",
    "scores": CASE + "/scores/{metric}.npz",
    "score_summary": CASE + "/scores/{metric}.json",
    "order": CASE + "/orders/{metric}.npz",
    "retrain": CASE + "/retrain/{configuration}/{metric}/{point}.json",
    # defences
    "defence_model": RUN + "/defences/{defence}/model.pt",
    "defence_summary": RUN + "/defences/{defence}/train.json",
    "defence_eval": RUN + "/defences/{defence}/eval_{eval_attack}.json",
    "defence_transfer": RUN + "/defences/{defence}/transfer_{eval_attack}.json",
    "transfer_inputs": RUN + "/defences/transfer/{eval_attack}.npz",
    # DeepCustom (seed 003)
    "suspiciousness": RUN + "/original/suspiciousness.npz",
    "generators": CASE + "/generators.pt",
    "generators_summary": CASE + "/generators.json",
    "deepcustom_adv_train": RUN + "/deepcustom/adv_train_{attack}.npz",
    "deepcustom_model": RUN + "/deepcustom/{robust}/model.pt",
    "deepcustom_summary": RUN + "/deepcustom/{robust}/train.json",
    "deepcustom_eval": RUN + "/deepcustom/{robust}/{protocol}_{eval_attack}.json",
}
# Tables, figures and the report's pages are named by guided_retraining.table_registry (results/tables/<name>.csv ...).


class _Keep(dict):
    """Format values that leave the fields not given as they are (wildcards of the pattern)."""

    def __missing__(self, key):
        return "{" + key + "}"


def fields(kind: str) -> list[str]:
    """The wildcard names of a kind's pattern, in order."""
    return [name for _, name, _, _ in Formatter().parse(PATTERNS[kind]) if name]


def result_path(results: str, kind: str, wildcards=None, /, **values) -> str:
    """``results/<pattern of kind>`` with the fields of ``wildcards`` (a job's, or a dict) and ``values``
    filled in; the others stay ``{name}`` wildcards."""
    if kind not in PATTERNS:
        raise KeyError(f"no result path of kind {kind!r} (known: {', '.join(PATTERNS)})")
    given = {} if wildcards is None else dict(wildcards.items() if hasattr(wildcards, "items") else vars(wildcards).items())
    given.update(values)
    return f"{results}/" + PATTERNS[kind].format_map(_Keep({k: v for k, v in given.items() if k in fields(kind)}))
