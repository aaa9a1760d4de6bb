"""Shift kinds (guided_retraining.shifts): exact resampling on hand-made cases, seeded corruptions, the
natural shift's draws, bad settings stopped before any job, and a tiny study with one kind of each sort."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import CONFIGS, REPO, snakemake, write_config

from guided_retraining.config import check_semantics, merge_shifts, validate_schema
from guided_retraining.datasets.prepared import Prepared
from guided_retraining.errors import ConfigError, DataError
from guided_retraining.shifts import (CORRUPTIONS, FAMILIES, class_counts, corrupt, resample_to_priors, resize, side_sets,
                                      split_pool, take)
from guided_retraining.shifts.corruption import image_seeds, work_size

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
MNIST = Path(os.environ.get("GR_SHARED_DIR", REPO.parent / "shared")) / "data" / "mnist"


# ---- label shift: counts and draws ----------------------------------------------------------------

@pytest.mark.parametrize("n,priors,expected", [
    (5, [0.5, 0.25, 0.25], [3, 1, 1]),  # floors 2,1,1; the largest remainder (.5) to class 0
    (10, [0.15, 0.15, 0.7], [2, 1, 7]),  # floors 1,1,7; remainders .5,.5,0: the tie to the lower class
    (7, [0.1] * 10, [1] * 7 + [0] * 3),
    (3, [1 / 3] * 3, [1, 1, 1]),
    (4, [0.0, 1.0], [0, 4]),
])
def test_class_counts_largest_remainder(n, priors, expected):
    assert class_counts(n, priors).tolist() == expected


def test_take_repeats_only_where_needed():
    rng = np.random.default_rng(0)
    assert take(np.array([7, 8, 9]), 3, rng).tolist() == [7, 8, 9]  # all of the pool, once each
    assert take(np.array([5]), 3, rng).tolist() == [5, 5, 5]
    picked = take(np.array([3, 4]), 5, rng).tolist()  # each twice, one more drawn
    assert picked[:2] in ([3, 3], [3, 4]) and sorted(picked).count(3) + sorted(picked).count(4) == 5
    assert min(picked.count(3), picked.count(4)) == 2
    sub = take(np.arange(10), 4, rng)
    assert len(set(sub.tolist())) == 4  # without replacement when the pool holds enough


def test_resample_to_priors_hand_case():
    y = np.array([0, 0, 1, 1, 2])
    rng = np.random.default_rng(1)
    # priors 1/2, 1/2, 0 on 4 inputs: both inputs of class 0 and of class 1, none of class 2
    assert resample_to_priors(y, 4, [0.5, 0.5, 0.0], rng).tolist() == [0, 1, 2, 3]
    # 0, 1/2, 1/2 on 6: class 1's two inputs once each and one of them again; class 2's one input 3 times
    idx = resample_to_priors(np.array([0, 0, 0, 1, 1, 2]), 6, [0.0, 0.5, 0.5], rng)
    assert np.bincount(np.array([0, 0, 0, 1, 1, 2])[idx], minlength=3).tolist() == [0, 3, 3]
    assert idx.tolist().count(5) == 3 and {3, 4} <= set(idx.tolist())
    with pytest.raises(DataError, match="class 2"):
        resample_to_priors(np.array([0, 1]), 4, [0.5, 0.0, 0.5], rng)


def test_label_shift_side_sets_seeded():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [20, 20, 20])
    x = rng.random((60, 1, 4, 4)).astype(np.float32)
    data = Prepared({"x_train": x, "y_train": y, "x_val": x[:30], "y_val": y[::2], "x_test": x[:15],
                     "y_test": y[::4]}, 3)
    entry = {"kind": "label_shift", "priors": [0.6, 0.4, 0.0]}
    a = side_sets(entry, data, 10, 0, 5)
    b = side_sets(entry, data, 10, 0, 5)
    assert np.bincount(a.y_train, minlength=3).tolist() == [6, 4, 0]
    assert np.bincount(a.y_test, minlength=3).tolist() == [9, 6, 0]  # 15 test inputs
    assert np.array_equal(a.x_train, x[a.idx_train]) and np.array_equal(a.y_train, y[a.idx_train])
    assert np.array_equal(a.idx_train, b.idx_train) and np.array_equal(a.x_val, b.x_val)
    drawn = side_sets({"kind": "label_shift", "alpha": 0.5}, data, 10, 0, 5)
    again = side_sets({"kind": "label_shift", "alpha": 0.5}, data, 10, 0, 5)
    assert drawn.info["priors"] == again.info["priors"] and abs(sum(drawn.info["priors"]) - 1) < 1e-12


# ---- natural shift ------------------------------------------------------------------------------

def test_split_pool_disjoint_and_proportional():
    parts = split_pool(5, [2, 2, 2], np.random.default_rng(0))  # 5 inputs for 6 wanted: 2, 2, 1
    assert [len(p) for p in parts] == [2, 2, 1]
    assert sorted(np.concatenate(parts).tolist()) == [0, 1, 2, 3, 4]
    parts = split_pool(10, [3, 2, 1], np.random.default_rng(0))  # enough: the sizes wanted, disjoint
    assert [len(p) for p in parts] == [3, 2, 1] and len(set(np.concatenate(parts).tolist())) == 6


def test_natural_side_sets_resized_disjoint_without_source_index():
    rng = np.random.default_rng(0)
    x_src = rng.random((9, 1, 16, 16)).astype(np.float32)
    y_src = np.arange(9) % 3
    x = rng.random((12, 1, 8, 8)).astype(np.float32)
    y = np.arange(12) % 3
    data = Prepared({"x_train": x, "y_train": y, "x_val": x[:4], "y_val": y[:4], "x_test": x[:3], "y_test": y[:3]}, 3)
    sets = side_sets({"kind": "natural", "source": {"loader": "arrays"}}, data, 2, 0, 1, source=(x_src, y_src, 3))
    assert sets.x_train.shape == (2, 1, 8, 8) and sets.x_val.shape == (4, 1, 8, 8) and sets.x_test.shape == (3, 1, 8, 8)
    assert sets.idx_train.tolist() == [-1, -1]  # no clean source in Train
    # each drawn image is a source image shrunk as PIL's bilinear filter shrinks it, with its label; the
    # three sets share no source image (9 images for 2 + 4 + 3 wanted: each set its own, no repeat)
    from PIL import Image

    shrunk = np.stack([np.asarray(Image.fromarray(img[0], mode="F").resize((8, 8), Image.BILINEAR)) for img in x_src])
    used = []
    for xs, ys in ((sets.x_train, sets.y_train), (sets.x_val, sets.y_val), (sets.x_test, sets.y_test)):
        for img, label in zip(xs, ys):
            match = [j for j in range(9) if np.allclose(shrunk[j], img[0], atol=1e-6)]
            assert len(match) == 1 and y_src[match[0]] == label
            used.append(match[0])
    assert sorted(used) == list(range(9))


# ---- corruptions --------------------------------------------------------------------------------

def test_corruption_names_are_the_librarys():
    import imagecorruptions

    assert CORRUPTIONS == tuple(imagecorruptions.get_corruption_names("all"))
    for family in ("noise", "blur", "weather", "digital"):
        assert FAMILIES[family] == tuple(imagecorruptions.get_corruption_names(family))


def test_resize_modes():
    """nearest then area by a whole factor gives the image back (up to float32 rounding); bilinear is PIL's."""
    from PIL import Image

    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    assert np.allclose(resize(resize(x, (32, 32), "nearest"), (8, 8), "area"), x, rtol=0, atol=1e-6)
    y = np.random.default_rng(1).random((1, 1, 28, 28)).astype(np.float32)
    for size in ((32, 32), (8, 8)):
        pil = np.asarray(Image.fromarray(y[0, 0], mode="F").resize(size[::-1], Image.BILINEAR))
        assert np.allclose(resize(y, size)[0, 0], np.clip(pil, 0, 1), atol=1e-6)


def test_work_size():
    assert work_size(8, 8) == (32, 32) and work_size(28, 28) == (32, 32) and work_size(48, 48) == (48, 48)
    assert work_size(16, 24) == (32, 48)


@pytest.mark.parametrize("name", ["gaussian_noise", "frost"])
def test_corruption_is_the_librarys_channel_0_at_32x32(name):
    """32x32 grayscale images: no resize; each result is channel 0 of the library's own output / 255, with the
    global state seeded by the image's own seed (frost: its photographs cached, the same bytes)."""
    import imagecorruptions

    x = np.random.default_rng(3).integers(0, 256, (3, 1, 32, 32)).astype(np.float32) / 255
    out = corrupt(x, name, 2, seed=11)
    state = np.random.get_state()
    for img, got, s in zip(x, out, image_seeds(11, 3)):
        np.random.seed(int(s))
        ref = imagecorruptions.corrupt((img[0] * 255).round().astype(np.uint8), severity=2, corruption_name=name)
        assert np.array_equal(got[0], ref[..., 0].astype(np.float32) / np.float32(255))
    np.random.set_state(state)


@pytest.mark.parametrize("name", ["gaussian_noise", "impulse_noise", "motion_blur", "fog", "elastic_transform"])
def test_corruption_seeded_byte_identical(name):
    x = np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32)
    a, b, c = corrupt(x, name, 4, seed=7), corrupt(x, name, 4, seed=7), corrupt(x, name, 4, seed=8)
    assert a.shape == x.shape and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    assert np.abs(a - x).mean() > 0.01  # it changed the images
    # an image's corruption depends on the seed and its position only, not on the rest of the batch
    assert corrupt(x[:1], name, 4, seed=7).tobytes() == a[:1].tobytes()


def test_corruption_leaves_numpys_global_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    corrupt(np.zeros((2, 1, 8, 8), np.float32), "shot_noise", 1, seed=0)
    assert np.random.random() == expected


def test_colour_images_keep_three_channels():
    x = np.random.default_rng(0).random((2, 3, 32, 32)).astype(np.float32)
    assert corrupt(x, "contrast", 2, seed=0).shape == (2, 3, 32, 32)


# ---- bad settings stop before any job -----------------------------------------------------------

LABELS = [0.3, 0.3, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025]
BAD_SHIFTS = [
    ({"kind": "corruption", "name": "rain", "severity": 2}, ["attacks.s.name", "'rain'", "gaussian_noise"]),
    ({"kind": "corruption", "name": "fog", "severity": 6}, ["attacks.s.severity", "6", "<= 5"]),
    ({"kind": "corruption", "name": "fog"}, ["attacks.s.severity", "None", "1 to 5"]),
    ({"kind": "corruption", "name": "fog", "severity": 2, "eps": 0.1}, ["attacks.s.eps", "corruption"]),
    ({"kind": "label_shift", "priors": [0.5] * 10}, ["attacks.s.priors", "sum to 5", "sum to 1"]),
    ({"kind": "label_shift", "priors": [0.5, 0.5]}, ["attacks.s.priors", "2 priors for 10 classes"]),
    ({"kind": "label_shift", "priors": [1.1, -0.1] + [0.0] * 8}, ["attacks.s.priors", ">= 0"]),
    ({"kind": "label_shift", "priors": LABELS, "alpha": 1.0}, ["attacks.s", "exactly one"]),
    ({"kind": "label_shift"}, ["attacks.s", "exactly one"]),
    ({"kind": "label_shift", "alpha": 1.0, "keep_successful": True}, ["attacks.s.keep_successful", "attacks only"]),
    ({"kind": "natural", "source": {"loader": "intel", "root": "x"}}, ["attacks.s.source", "6 classes", "10"]),
    ({"kind": "natural", "source": {"loader": "cifar10", "root": "x", "options": {"grayscale": False}}},
     ["attacks.s.source", "3 channel(s)", "1"]),
    ({"kind": "natural", "source": {"loader": "svhn"}}, ["attacks.s.source.loader", "'svhn'"]),
    ({"kind": "natural"}, ["attacks.s.source", "loader"]),
    ({"kind": "natural", "source": {"loader": "mnist", "options": {"colour": True}}},
     ["attacks.s.source.options", "colour", "grayscale"]),
]


def test_natural_source_not_on_disk_stops_a_real_run_not_a_dry_run(tmp_path):
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    config["shifts"] = {"s": {"kind": "natural", "source": {"loader": "mnist", "root": str(tmp_path / "none")}}}
    merge_shifts(config)
    validate_schema(config, SCHEMA)
    check_semantics(config, check_data=False)
    with pytest.raises(DataError, match=r"^attacks\.s\.source\.root: mnist: .*none"):
        check_semantics(config, check_data=True)


@pytest.mark.parametrize("entry,words", BAD_SHIFTS)
def test_bad_shift_is_named_in_one_line(entry, words):
    config = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    config["shifts"] = {"s": entry}
    with pytest.raises((ConfigError, DataError)) as info:
        merge_shifts(config)
        validate_schema(config, SCHEMA)
        check_semantics(config, check_data=False)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_shifts_alias_joins_attacks_and_names_clash():
    config = {"attacks": {"fgsm": {"kind": "fgsm"}}, "shifts": {"fog": {"kind": "corruption"}}}
    merge_shifts(config)
    assert list(config["attacks"]) == ["fgsm", "fog"] and "shifts" not in config
    with pytest.raises(ConfigError, match="shifts.fgsm"):
        merge_shifts({"attacks": {"fgsm": {}}, "shifts": {"fgsm": {}}})
    only = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    only["shifts"] = only.pop("attacks")  # a config with shifts and no attacks section
    merge_shifts(only)
    validate_schema(only, SCHEMA)
    assert list(only["attacks"]) == ["fgsm"]


@pytest.mark.parametrize("entry,line", [
    ({"kind": "corruption", "name": "fog", "severity": 6},
     "attacks.s.severity: 6 is out of range; expected a value <= 5"),
    ({"kind": "natural", "source": {"loader": "cifar10", "root": "x", "options": {"grayscale": False}}},
     "attacks.s.source: its images have 3 channel(s), the dataset's 1; a natural shift needs the same channels"
     " (see the loader's grayscale option)"),
])
def test_bad_shift_stops_a_dry_run_before_any_job(tmp_path, entry, line):
    config = write_config(tmp_path / "bad.yaml", lambda c: c.update(shifts={"s": entry}))
    proc = snakemake(tmp_path, "-n", "--cores", "1", configfile=config, check=False)
    assert proc.returncode == 1
    lines = [x for x in proc.stderr.splitlines() if "config error" in x]
    assert lines == [f"guided-retraining: config error: {line}"]
    assert "Traceback" not in proc.stderr


# ---- the tiny study -----------------------------------------------------------------------------

@pytest.mark.workflow
@pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(), reason="no MNIST copy (GR_SHARED_DIR)")
def test_tiny_study_with_one_shift_of_each_kind(tmp_path):
    text = (CONFIGS / "tiny-shifts.yaml").read_text().replace("MNIST_ROOT", str(MNIST))
    (tmp_path / "shifts.yaml").write_text(text)
    snakemake(tmp_path, "--cores", "2", configfile=tmp_path / "shifts.yaml")
    res = tmp_path / "results"
    kinds = {"fgsm": None, "fog3": "corruption", "mnist": "natural", "skewed": "label_shift"}
    for name, kind in kinds.items():
        summary = json.loads((res / f"digits/r1/{name}/attack.json").read_text())
        assert summary.get("shift") == kind
        adv = np.load(res / f"digits/r1/{name}/adversarial.npz", allow_pickle=False)
        assert len(adv["x_adv_train"]) == 60 and adv["x_adv_train"].shape[1:] == (1, 8, 8)
    skewed = np.load(res / "digits/r1/skewed/adversarial.npz", allow_pickle=False)
    assert np.bincount(skewed["y_adv_train"], minlength=10).tolist() == [18, 18, 6, 6, 3, 3, 2, 2, 1, 1]
    assert (np.load(res / "digits/r1/mnist/adversarial.npz")["idx_adv_train"] == -1).all()
    table = (res / "tables/table3.csv").read_text()
    assert all(name in table for name in kinds)
    # the Markdown, the summary and the objectives say "shift" where a row is not an attack; the CSV keeps its key
    assert table.splitlines()[0].startswith("dataset,attack,")
    md = (res / "tables/table3.md").read_text()
    assert "| attack or shift " in md and "fog3 (corruption)" in md and "skewed (label_shift)" in md
    assert "| fgsm " in md and "fgsm (" not in md
    assert "- shift: a row whose new inputs are a distribution shift" in md
    summary = (res / "summary.md").read_text()
    assert "## digits, mnist (shift: natural)" in summary and "## digits, fgsm\n" in summary
    assert "mnist (natural)" in (res / "tables/objectives.md").read_text()


def test_adversarial_file_accepts_minus_one_for_inputs_without_a_clean_source(tmp_path):
    """A natural shift's Adv.Train rows have no source in Train: idx_adv_train -1 is read, -2 is not."""
    from guided_retraining.datasets.prepared import load_adversarial
    from guided_retraining.io import save_npz

    x = np.zeros((4, 1, 8, 8), np.float32)
    y = np.arange(4) % 2
    data = Prepared({"x_train": x, "y_train": y, "x_val": x[:2], "y_val": y[:2], "x_test": x[:3], "y_test": y[:3]}, 2)
    for idx, ok in (([-1, -1], True), ([-1, 3], True), ([-2, 0], False)):
        path = tmp_path / f"adv{idx[0]}{idx[1]}.npz"
        save_npz(path, x_adv_train=x[:2], y_adv_train=y[:2], idx_adv_train=np.array(idx, np.int64),
                 x_adv_val=x[:2], y_adv_val=y[:2], x_adv_test=x[:3], y_adv_test=y[:3])
        if ok:
            assert load_adversarial(path, data)["idx_adv_train"].tolist() == idx
        else:
            with pytest.raises(DataError, match="idx_adv_train"):
                load_adversarial(path, data)


def test_a_corruption_stops_in_one_line_where_its_library_cannot_import(monkeypatch):
    """OpenCV (needed by imagecorruptions) fails to import on a machine without libGL: the config check says so
    before any job, naming the key."""
    import sys

    from guided_retraining.shifts.corruption import check_corruption

    monkeypatch.setitem(sys.modules, "imagecorruptions", None)  # import raises ImportError
    with pytest.raises(ConfigError) as err:
        check_corruption("fog", 3, 1, "attacks.fog3")
    message = str(err.value)
    assert message.startswith("attacks.fog3: the corruption library does not import here (")
    assert "apt-get install libgl1" in message and "\n" not in message


def test_markdown_tables_name_shifts_as_shifts_and_keep_attacks_as_they_were():
    """The Markdown's key column is "attack" with no shift, "shift" when every row is one, "attack or shift" when
    mixed, each shift followed by its kind; the footnote defines the sets for shifts only where a shift is shown."""
    import pandas as pd

    from guided_retraining.table_files import footnote, label_shifts

    frame = pd.DataFrame({"dataset": ["d", "d", "d"], "attack": ["fgsm", "fog3", "fgsm"], "acc": [0.5, 0.6, 0.7]})
    shifts = {"fog3": "corruption", "unused": "natural"}
    mixed = label_shifts(frame, shifts)
    assert list(mixed.columns) == ["dataset", "attack or shift", "acc"]
    assert mixed["attack or shift"].tolist() == ["fgsm", "fog3 (corruption)", "fgsm"]
    only = label_shifts(frame[frame["attack"] == "fog3"], shifts)
    assert list(only.columns) == ["dataset", "shift", "acc"] and only["shift"].tolist() == ["fog3 (corruption)"]
    assert label_shifts(frame[frame["attack"] == "fgsm"], shifts) is not None
    assert list(label_shifts(frame[frame["attack"] == "fgsm"], shifts).columns) == ["dataset", "attack", "acc"]
    assert label_shifts(frame, {}).equals(frame) and label_shifts(frame, None).equals(frame)
    plain, shifted = footnote("accuracy on Test*", "| attack |"), footnote("accuracy on Test*", "| shift |", shifts=True)
    assert "the attack's adversarial version of every one" in plain and "shift:" not in plain
    assert "or a shift's test set" in shifted and "- shift: a row whose new inputs" in shifted


def test_the_summary_names_a_shift_with_its_kind():
    from guided_retraining.summary import new_inputs_words

    assert new_inputs_words("fog3", {"fog3": "corruption"}) == "fog3 (shift: corruption)"
    assert new_inputs_words("fgsm", {"fog3": "corruption"}) == "fgsm"
    assert new_inputs_words("fgsm", None) == "fgsm"
