"""Loaders on tiny datasets written in each dataset's real on-disk format; one-line errors; registry."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil

import numpy as np
import pytest
from PIL import Image

from fixtures_datasets import (COLOURS, INTEL_CLASSES, class_colour, idx_bytes, luma, write_cifar10, write_gtsrb,
                               write_idx_dataset, write_intel)
from guided_retraining.datasets import LOADERS, check_available, load, merged_sizes, split
from guided_retraining.datasets.digits import load_digits
from guided_retraining.errors import ConfigError, DataError


def one_line_error(excinfo, *parts):
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for p in parts:
        assert str(p) in msg, f"{p!r} not in {msg!r}"
    return msg


# ---- registry -------------------------------------------------------------------------------------

def test_registry_names():
    assert {"digits", "mnist", "fashion_mnist", "cifar10", "gtsrb", "intel"} <= set(LOADERS)
    assert all(name == d.name for name, d in LOADERS.items())
    with pytest.raises(KeyError):
        load("imagenet", "/nowhere")
    with pytest.raises(KeyError):
        check_available("imagenet", "/nowhere")
    check_available("digits", None)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "gtsrb", "intel"])
def test_missing_directory_is_one_line(tmp_path, name):
    where = tmp_path / "absent"
    with pytest.raises(DataError) as e:
        check_available(name, where)
    one_line_error(e, f"{name}: ", str(where), "expected", f"set datasets.{name}.root")
    with pytest.raises(DataError) as e2:
        load(name, where)
    assert str(e2.value) == str(e.value)  # the loader stops with the same line, before reading anything


@pytest.mark.parametrize("name", ["mnist", "cifar10", "gtsrb", "intel"])
def test_unset_root(name):
    with pytest.raises(DataError) as e:
        check_available(name, None)
    one_line_error(e, f"{name}: no data directory configured; set datasets.{name}.root")


# ---- MNIST / Fashion-MNIST layouts ------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["plain_gz", "plain", "tv_raw", "tv_raw_gz", "raw_subdir"])
@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_idx_layouts(tmp_path, layout, name, folder):
    d = {"plain_gz": tmp_path, "plain": tmp_path, "tv_raw": tmp_path / folder / "raw",
         "tv_raw_gz": tmp_path / folder / "raw", "raw_subdir": tmp_path / "raw"}[layout]
    arrays = write_idx_dataset(d, gz=layout in ("plain_gz", "tv_raw_gz", "raw_subdir"))
    check_available(name, tmp_path)
    raw = load(name, tmp_path)
    assert raw.x_train.shape == (12, 1, 28, 28) and raw.x_test.shape == (5, 1, 28, 28)
    assert raw.x_train.dtype == np.float32 and raw.y_train.dtype == np.int64
    np.testing.assert_array_equal(raw.x_train[:, 0], arrays["train-images-idx3-ubyte"].astype(np.float32) / 255)
    np.testing.assert_array_equal(raw.y_test, arrays["t10k-labels-idx1-ubyte"])


def test_idx_resize_option(tmp_path):
    arrays = write_idx_dataset(tmp_path)
    raw = load("mnist", tmp_path, size=14)
    assert raw.x_train.shape == (12, 1, 14, 14)
    ref = np.asarray(Image.fromarray(arrays["train-images-idx3-ubyte"][3]).resize((14, 14), Image.BILINEAR))
    np.testing.assert_array_equal(raw.x_train[3, 0], ref.astype(np.float32) / 255)


def test_idx_incomplete_names_the_missing_file(tmp_path):
    write_idx_dataset(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as e:
        check_available("mnist", tmp_path)
    msg = one_line_error(e, f"mnist: {tmp_path}: expected t10k-labels-idx1-ubyte[.gz]", "found only",
                        "MNIST/raw/", "set datasets.mnist.root")
    assert "train-images-idx3-ubyte[.gz]" not in msg


def test_idx_truncated_file(tmp_path):
    arrays = write_idx_dataset(tmp_path, gz=False)
    data = idx_bytes(arrays["train-images-idx3-ubyte"])
    (tmp_path / "train-images-idx3-ubyte").write_bytes(data[:-100])
    with pytest.raises(DataError) as e:
        load("mnist", tmp_path)
    one_line_error(e, "train-images-idx3-ubyte", "truncated")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(gzip.compress(b"not idx at all"))
    with pytest.raises(DataError) as e:
        load("mnist", tmp_path)
    one_line_error(e, "not an idx file")


def test_idx_label_count_mismatch(tmp_path):
    write_idx_dataset(tmp_path, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(7, np.uint8)))
    with pytest.raises(DataError) as e:
        load("mnist", tmp_path)
    one_line_error(e, "12 train images but 7 train labels")


# ---- CIFAR-10 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["py2", 2, 5])
def test_cifar10_batches(tmp_path, protocol):
    written = write_cifar10(tmp_path, per_batch=4, protocol=protocol)
    check_available("cifar10", tmp_path)
    raw = load("cifar10", tmp_path, verify=False)
    assert raw.x_train.shape == (20, 1, 32, 32) and raw.x_test.shape == (4, 1, 32, 32) and raw.n_classes == 10
    assert raw.y_train.tolist() == sum((written[f"data_batch_{b}"][1] for b in range(1, 6)), [])
    assert raw.y_test.tolist() == written["test_batch"][1]
    # pure red, green, blue -> PIL "L" 76, 150, 29
    for i, colour in enumerate(("red", "green", "blue")):
        assert COLOURS[colour][1] == luma(COLOURS[colour][0])
        np.testing.assert_array_equal(raw.x_train[i, 0], np.float32(COLOURS[colour][1]) / np.float32(255))
    # random images: identical to PIL's own conversion of the HWC image
    hwc = written["test_batch"][0][3]
    ref = np.asarray(Image.fromarray(hwc).convert("L")).astype(np.float32) / 255
    np.testing.assert_array_equal(raw.x_test[3, 0], ref)


def test_cifar10_colour_and_resize_options(tmp_path):
    written = write_cifar10(tmp_path, per_batch=4)
    rgb = load("cifar10", tmp_path / "cifar-10-batches-py", verify=False, grayscale=False)  # root = the folder itself
    assert rgb.x_train.shape == (20, 3, 32, 32)
    np.testing.assert_array_equal(rgb.x_test[3], written["test_batch"][0][3].transpose(2, 0, 1).astype(np.float32) / 255)
    small = load("cifar10", tmp_path, verify=False, size=16)
    ref = np.asarray(Image.fromarray(written["test_batch"][0][3]).convert("L").resize((16, 16), Image.BILINEAR))
    np.testing.assert_array_equal(small.x_test[3, 0], ref.astype(np.float32) / 255)


def test_cifar10_verify_rejects_unofficial_files(tmp_path):
    write_cifar10(tmp_path)
    with pytest.raises(DataError) as e:
        load("cifar10", tmp_path)  # verify=True by default: fixtures are not the official files
    one_line_error(e, "cifar10: ", "data_batch_1", "MD5")


def test_cifar10_incomplete_and_corrupt(tmp_path):
    write_cifar10(tmp_path)
    d = tmp_path / "cifar-10-batches-py"
    (d / "test_batch").unlink()
    with pytest.raises(DataError) as e:
        check_available("cifar10", tmp_path)
    one_line_error(e, f"cifar10: {d}: expected test_batch (found only data_batch_1", "set datasets.cifar10.root")
    (d / "test_batch").write_bytes(b"\x00garbage")
    with pytest.raises(DataError) as e:
        load("cifar10", tmp_path, verify=False)
    one_line_error(e, "test_batch", "not a CIFAR-10 python batch")


def test_cifar10_refuses_code_in_pickles(tmp_path):
    write_cifar10(tmp_path)

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(DataError) as e:
        load("cifar10", tmp_path, verify=False)
    one_line_error(e, "data_batch_2", "not allowed")
    assert not (tmp_path / "pwned").exists()


# ---- GTSRB ---------------------------------------------------------------------------------------

def test_gtsrb_torchvision_layout(tmp_path):
    info = write_gtsrb(tmp_path, per_class=2, n_test=6)
    check_available("gtsrb", tmp_path)
    raw = load("gtsrb", tmp_path, workers=2)
    assert raw.n_classes == 43
    assert raw.x_train.shape == (86, 1, 48, 48) and raw.x_test.shape == (6, 1, 48, 48)
    assert raw.x_train.dtype == np.float32 and raw.y_train.dtype == np.int64
    assert raw.y_train.tolist() == [c for c in range(43) for _ in range(2)]
    assert raw.y_test.tolist() == [(3 * k) % 43 for k in range(6)]
    # uniform images keep their grey value through the resize: PIL "L" of the class colour
    for i in (0, 1, 40, 85):
        c = raw.y_train[i]
        np.testing.assert_array_equal(raw.x_train[i, 0], np.float32(luma(class_colour(c))) / np.float32(255))
    # test images (gradients): exactly PIL's L conversion then bilinear resize to 48x48
    for k, (path, _) in enumerate(info["test"]):
        ref = np.asarray(Image.open(path).convert("L").resize((48, 48), Image.BILINEAR)).astype(np.float32) / 255
        np.testing.assert_array_equal(raw.x_test[k, 0], ref)


def test_gtsrb_root_may_be_the_gtsrb_folder_and_size_option(tmp_path):
    write_gtsrb(tmp_path, per_class=1, n_test=2)
    raw = load("gtsrb", tmp_path / "gtsrb", size=(32, 24), grayscale=False)
    assert raw.x_train.shape == (43, 3, 32, 24) and raw.x_test.shape == (2, 3, 32, 24)
    np.testing.assert_allclose(raw.x_train[5, :, 0, 0], np.array(class_colour(5), np.float32) / 255)


def test_gtsrb_incomplete(tmp_path):
    write_gtsrb(tmp_path, per_class=1, n_test=2)
    base = tmp_path / "gtsrb"
    shutil.rmtree(base / "GTSRB" / "Training" / "00042")
    (base / "GT-final_test.csv").unlink()
    with pytest.raises(DataError) as e:
        check_available("gtsrb", tmp_path)
    one_line_error(e, f"gtsrb: {tmp_path}: expected class folders gtsrb/GTSRB/Training/{{00042}}",
                   "gtsrb/GT-final_test.csv", "set datasets.gtsrb.root")


def test_gtsrb_stray_training_folder(tmp_path):
    write_gtsrb(tmp_path, per_class=1, n_test=2)
    (tmp_path / "gtsrb" / "GTSRB" / "Training" / "__MACOSX").mkdir()
    with pytest.raises(DataError) as e:
        check_available("gtsrb", tmp_path)
    one_line_error(e, "gtsrb: ", "unexpected folders __MACOSX")


def test_gtsrb_missing_test_image(tmp_path):
    info = write_gtsrb(tmp_path, per_class=1, n_test=3)
    info["test"][1][0].unlink()
    with pytest.raises(DataError) as e:
        load("gtsrb", tmp_path, workers=1)
    one_line_error(e, "gtsrb: test image 1 (", "00001.ppm): cannot read")


# ---- Intel natural scenes -------------------------------------------------------------------------

@pytest.mark.parametrize("doubled", [True, False])
def test_intel_kaggle_layouts(tmp_path, doubled):
    info = write_intel(tmp_path, per_class=2, n_test_per_class=1, doubled=doubled)
    check_available("intel", tmp_path)
    raw = load("intel", tmp_path)
    assert raw.n_classes == 6
    assert raw.x_train.shape == (12, 1, 48, 48) and raw.x_test.shape == (6, 1, 48, 48)
    assert raw.y_train.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert raw.y_test.tolist() == list(range(6))
    for i, (path, c) in enumerate(info["seg_train"]):
        assert raw.y_train[i] == c
        ref = np.asarray(Image.open(path).convert("L").resize((48, 48), Image.BILINEAR)).astype(np.float32) / 255
        np.testing.assert_array_equal(raw.x_train[i, 0], ref)  # same decoder, same conversion: exact
        assert abs(float(raw.x_train[i, 0].mean()) * 255 - luma(class_colour(c))) < 3  # JPEG: close to the colour


def test_intel_ignores_extra_folders_and_reads_png(tmp_path):
    write_intel(tmp_path, per_class=1, n_test_per_class=1, doubled=False, fmt="PNG")
    (tmp_path / "seg_train" / ".ipynb_checkpoints").mkdir()
    raw = load("intel", tmp_path, size=20)
    assert raw.x_train.shape == (6, 1, 20, 20)
    for c in range(6):
        np.testing.assert_array_equal(raw.x_train[c, 0], np.float32(luma(class_colour(c))) / np.float32(255))


def test_intel_missing_class_and_empty_class(tmp_path):
    write_intel(tmp_path, per_class=1, n_test_per_class=1)
    shutil.rmtree(tmp_path / "seg_test" / "seg_test" / "sea")
    with pytest.raises(DataError) as e:
        check_available("intel", tmp_path)
    one_line_error(e, f"intel: {tmp_path}: expected seg_test/[seg_test/]{{{','.join(INTEL_CLASSES)}}}/",
                   "set datasets.intel.root")
    (tmp_path / "seg_test" / "seg_test" / "sea").mkdir()  # present but empty
    check_available("intel", tmp_path)  # the cheap check only looks at folders
    with pytest.raises(DataError) as e:
        load("intel", tmp_path)
    one_line_error(e, "intel: ", "sea")


def test_intel_download_is_refused_with_a_pointer(tmp_path):
    with pytest.raises(DataError) as e:
        load("intel", tmp_path, download=True)
    one_line_error(e, "download is not supported for intel", "kaggle")


def test_bad_options(tmp_path):
    write_intel(tmp_path, per_class=1, n_test_per_class=1)
    with pytest.raises(ConfigError):
        load("intel", tmp_path, size="big")
    with pytest.raises(ConfigError):
        load("intel", tmp_path, resample="magic")
    with pytest.raises(DataError):
        load("intel", tmp_path, size=None)


# ---- splits ---------------------------------------------------------------------------------------

def test_merged_sizes_are_the_studys():
    assert merged_sizes(70000) == (48999, 14000, 7001)  # MNIST, Fashion-MNIST
    assert merged_sizes(60000) == (41999, 12000, 6001)  # CIFAR-10
    assert merged_sizes(100, (1.0, 0.0, 0.0)) == (100, 0, 0)
    assert merged_sizes(100, (0.8, 0.2, 0.0)) == (80, 20, 0)


def test_merged_sizes_match_two_train_test_splits():
    from sklearn.model_selection import train_test_split

    for n in (1797, 5000, 17034, 39209, 60000, 70000):
        rest = train_test_split(np.arange(n), test_size=1 - 0.7, random_state=0)[1]
        val, test = train_test_split(rest, test_size=0.1 / (0.1 + 0.2), random_state=0)
        assert merged_sizes(n) == (n - len(rest), len(val), len(test)), n


def test_digits_split_still_works():
    raw = load_digits()
    parts = split(raw, "merged", seed=3)
    sizes = [len(parts[f"x_{p}"]) for p in ("train", "val", "test")]
    assert sizes == list(merged_sizes(1797)) and sum(sizes) == 1797
    assert np.unique(np.concatenate([parts["x_train"], parts["x_val"], parts["x_test"]]), axis=0).shape[0] \
        == np.unique(raw.x_train, axis=0).shape[0]
    with pytest.raises(ConfigError):
        split(raw, "original")


def test_cifar10_reads_as_torchvision_does(tmp_path, monkeypatch):
    """Same images and labels as torchvision.datasets.CIFAR10 + PIL "L" (checksums disabled for the fixture)."""
    from torchvision.datasets import CIFAR10

    write_cifar10(tmp_path, per_batch=5, protocol="py2")
    monkeypatch.setattr(CIFAR10, "train_list", [[f, None] for f, _ in CIFAR10.train_list])
    monkeypatch.setattr(CIFAR10, "test_list", [[f, None] for f, _ in CIFAR10.test_list])
    monkeypatch.setattr(CIFAR10, "meta", dict(CIFAR10.meta, md5=None))
    raw = load("cifar10", tmp_path, verify=False)
    for train, x, y in ((True, raw.x_train, raw.y_train), (False, raw.x_test, raw.y_test)):
        ds = CIFAR10(str(tmp_path), train=train, download=False, transform=lambda im: np.asarray(im.convert("L")))
        ref = np.stack([ds[i][0] for i in range(len(ds))]).astype(np.float32) / 255
        np.testing.assert_array_equal(x[:, 0], ref)
        assert y.tolist() == list(ds.targets)


def test_gtsrb_official_train_only_pool_gives_the_studys_sizes():
    """GTSRB's counts (39,209 official train, 12,630 official test), split as config/paper.yaml does."""
    from guided_retraining.datasets.base import RawDataset

    x_train = np.zeros((39209, 1, 1, 1), np.float32)
    x_test = np.ones((12630, 1, 1, 1), np.float32)  # marked: none may end up in any part
    raw = RawDataset("gtsrb", x_train, np.arange(39209) % 43, x_test, np.arange(12630) % 43, 43)
    parts = split(raw, "merged", seed=0, pool=["train"], sizes=[31366, 3919, 3923])
    assert [len(parts[f"y_{n}"]) for n in ("train", "val", "test")] == [31366, 3919, 3923]
    assert all(parts[f"x_{n}"].max() == 0 for n in ("train", "val", "test"))
    # fractions on the official training images alone, and the default pooling of both parts
    assert [len(v) for k, v in split(raw, "merged", (0.8, 0.1, 0.1), pool=["train"]).items()
            if k.startswith("y_")] == [31367, 3921, 3921]
    assert [len(v) for k, v in split(raw, "merged", (0.8, 0.1, 0.1)).items()
            if k.startswith("y_")] == [41471, 5184, 5184]
    with pytest.raises(ConfigError, match="split.sizes"):
        split(raw, "merged", pool=["train"], sizes=[39209, 1, 0])
