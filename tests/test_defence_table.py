"""The defence x attack comparison on a tiny digits run (tests/configs/defences.yaml)."""

import json
import shutil

import pytest

from conftest import CONFIGS, snakemake

from guided_retraining.tables import read_csv

pytestmark = pytest.mark.workflow


def test_defence_table_shape_and_guided_model(tmp_path):
    shutil.copy(CONFIGS / "defences.yaml", tmp_path / "defences.yaml")
    snakemake(tmp_path, "--cores", "2", configfile=tmp_path / "defences.yaml")
    table = read_csv(tmp_path / "results/tables/defences.csv")
    assert list(table.columns) == ["dataset", "defence", "repetitions", "none", "fgsm", "deepfool", "pgd"]
    assert list(table.defence) == ["none", "adversarial_training", "feature_squeezing", "guided"]
    assert ((table[["none", "fgsm", "deepfool", "pgd"]] >= 0) & (table[["none", "fgsm", "deepfool", "pgd"]] <= 1)).all().all()
    rows = table.set_index("defence")
    assert (rows["fgsm"] < rows["none"]).all()  # every attack hurts every defence here
    assert rows.loc["adversarial_training", "fgsm"] > rows.loc["none", "fgsm"]
    assert (tmp_path / "results/figures/defences_digits.png").stat().st_size > 1000
    # the defended models watch the validation split (early stopping with patience); their training graphs
    for defence in ("adversarial_training", "feature_squeezing"):
        trained = json.loads((tmp_path / f"results/digits/r1/defences/{defence}/train.json").read_text())
        assert len(trained["val_acc"]) == len(trained["losses"]) == trained["epochs_run"] == 6, defence
    for ext in ("png", "pdf"):
        assert (tmp_path / f"results/figures/training_digits.{ext}").stat().st_size > 1000
    guided = json.loads((tmp_path / "results/digits/r1/defences/guided/train.json").read_text())
    best = json.loads((tmp_path / f"results/digits/r1/fgsm/retrain/C2/{guided['metric']}/{guided['point']}.json").read_text())
    assert guided["inputs_used"] == best["inputs_used"] and guided["selected_on"] == "validation"
    clean = json.loads((tmp_path / "results/digits/r1/defences/guided/eval_none.json").read_text())["accuracy"]
    assert clean == pytest.approx(best["acc_test"])  # the saved model is the one Table 3 measured
    # run 004's transfer protocol: inputs made against the undefended model, accuracy and loss
    transfer = read_csv(tmp_path / "results/tables/defences_transfer.csv").set_index("defence")
    assert list(transfer.columns) == ["dataset", "repetitions", "none", "fgsm", "deepfool", "pgd", "none_loss",
                                      "fgsm_loss", "deepfool_loss", "pgd_loss"]
    assert transfer.loc["none", "fgsm"] == pytest.approx(rows.loc["none", "fgsm"])  # FGSM: same inputs either way
    assert (transfer["none"] == rows["none"]).all()  # clean Test is clean Test
    assert (transfer["fgsm_loss"] > transfer["none_loss"]).all()
    # the guided defence is the best C2 model on validation (never picked on Test)
    results = [json.loads(p.read_text()) for p in (tmp_path / "results/digits/r1/fgsm/retrain/C2").glob("*/p*.json")]
    chosen = next(r for r in results if (r["metric"], r["point"]) == (guided["metric"], guided["point"]))
    assert (chosen["acc_val_star"], -chosen["inputs_used"]) == max((r["acc_val_star"], -r["inputs_used"])
                                                                  for r in results)
