"""Rule suspiciousness: hit spectra and Tarantula scores of the original model's hidden neurons, per class."""

import numpy as np

from guided_retraining import tables
from guided_retraining.datasets.prepared import load_prepared
from guided_retraining.deepcustom.suspiciousness import hit_spectra, suspicious_table, unit_scores
from guided_retraining.io import save_npz
from guided_retraining.models import load_model


def main(job, log):
    p, w = job.params, job.wildcards
    data = load_prepared(job.input.data)
    model = load_model(job.input.model, p.arch, data.shape, data.n_classes)
    x, y = data["x_val"], data["y_val"]  # held-out inputs: passing and failing as the model meets new data
    spectra = hit_spectra(model, x, y, data.n_classes, threshold=p.settings["activation_threshold"],
                          batch_size=p.batch_size_eval, device=p.device)
    scores = unit_scores(spectra)
    arrays = {"n_pass": spectra["n_pass"], "n_fail": spectra["n_fail"], "layers": np.array(spectra["layers"])}
    for name in spectra["layers"]:
        arrays.update({f"tarantula:{name}": scores[name], f"a_s:{name}": spectra["a_s"][name],
                       f"a_f:{name}": spectra["a_f"][name]})
    save_npz(job.output.scores, **arrays)
    table = suspicious_table(scores, spectra, p.settings["top_k"])
    # the table names what it depends on (not the whole config's digest: a metric's change must not re-run it)
    source = (f"{job.input.model}, validation inputs, activation_threshold {p.settings['activation_threshold']}, "
              f"top_k {p.settings['top_k']}")
    tables.write(table, job.output.csv, job.output.md,
                 f"Most suspicious units of the original model per class (Tarantula, {w.dataset})", source)
    log.info("%d validation inputs, %d failing; top unit per class: %s", len(y), int(spectra["n_fail"].sum()),
             table[table["rank"] == 1][["class", "layer", "unit"]].values.tolist())


if __name__ == "__main__":  # run one job alone: python scripts/<rule>.py TARGET (workflow/lib/jobs.py)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow" / "lib"))
    from jobs import standalone

    standalone(main)
