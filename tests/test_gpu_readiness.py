"""Issue 26: configs cannot write outside the working directory, the device is checked before any job,
the determinism switch is set in the jobs' process, every result JSON says where it ran, and the
image / idx loaders are bounded."""

import gzip
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from conftest import REPO, snakemake, write_config
from fixtures_datasets import idx_bytes

from guided_retraining import datasets
from guided_retraining.config import check_results_path, check_semantics, validate_schema
from guided_retraining.datasets.idx import read_idx
from guided_retraining.errors import ConfigError, DataError

SCHEMA = REPO / "workflow/schemas/config.schema.yaml"
HARDWARE_KEYS = {"device", "device_requested", "gpu", "cuda", "cudnn", "driver", "torch", "deterministic"}
FLAGS_ON = {"use_deterministic_algorithms": True, "cudnn_deterministic": True, "cudnn_benchmark": False,
            "cuda_matmul_allow_tf32": False, "cudnn_allow_tf32": False, "float32_matmul_precision": "highest",
            "cublas_workspace_config": ":4096:8"}


# ---- results: inside the working directory ----------------------------------------------------------

@pytest.mark.parametrize("results,words", [
    ("/", ["results: '/'", "root of the file system"]),
    ("//", ["root of the file system"]),
    ("../x", ["results: '../x'", "'..' would leave the working directory"]),
    ("out/../../x", ["'..'"]),
    (".", ["the working directory itself"]),
    ("/scratch/me/results", ["absolute path", "results_absolute: true"]),
    ("res\nults", ["letters, digits", "'\\n'"]),
    ("<script>", ["'<'", "'>'"]),
    ("a`b", ["'`'"]),
    ("{dataset}", ["'{'"]),
    ("my results", ["' '"]),
])
def test_bad_results_paths_are_named_in_one_line(results, words):
    with pytest.raises(ConfigError) as info:
        check_results_path(results)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("results,absolute", [("results", False), ("out/run-1.v2", False), ("./results", False),
                                              ("/scratch/me/results", True)])
def test_good_results_paths_pass(results, absolute):
    check_results_path(results, absolute)


def test_results_absolute_is_a_schema_key_with_the_rule():
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    config.update(results="/tmp/gr-results", results_absolute=True)
    validate_schema(config, SCHEMA)
    check_semantics(config, check_data=False)  # accepted on purpose
    config.update(results_absolute=False)
    with pytest.raises(ConfigError, match="results_absolute"):
        check_semantics(config, check_data=False)


@pytest.mark.parametrize("results", ["/", "../x"])
def test_results_outside_stops_before_any_job(tmp_path, results):
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(tmp_path / "bad.yaml", lambda c: c.update(results=results))
    proc = snakemake(work, "--cores", "1", configfile=config, check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1 and lines[0].startswith(f"guided-retraining: config error: results: {results!r}"), \
        proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in work.iterdir()) in ([], [".snakemake"])
    assert not (tmp_path / "x").exists()


# ---- device: checked before any job (issue 22, item 14) --------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_cuda_without_a_gpu_stops_before_any_job(tmp_path):
    config = write_config(tmp_path / "cuda.yaml", lambda c: c.update(device="cuda"))
    proc = snakemake(tmp_path, "--cores", "1", configfile=config, check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("guided-retraining: config error: device: 'cuda' requested but this machine has no"
                               " usable CUDA device"), lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()
    # a metric's own device too, named by its key
    config = write_config(tmp_path / "cuda2.yaml", lambda c: c["metrics"]["dsa"].update(device="cuda:1"))
    proc = snakemake(tmp_path, "--cores", "1", configfile=config, check=False)
    assert "guided-retraining: config error: metrics.dsa.device: 'cuda:1' requested" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_device_accepts_cuda_n_and_refuses_other_names():
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    config["device"] = "cuda:1"
    validate_schema(config, SCHEMA)
    config["device"] = "gpu"
    with pytest.raises(ConfigError, match="device: 'gpu' is not allowed"):
        validate_schema(config, SCHEMA)


# ---- determinism and hardware provenance in the jobs' own process ---------------------------------

def test_every_result_json_of_a_run_says_where_it_ran_and_the_flags(tiny_run):
    files = sorted((tiny_run / "results").rglob("*.json"))
    assert len(files) > 30
    rules = set()
    for path in files:
        hardware = json.loads(path.read_text())["hardware"]
        assert set(hardware) == HARDWARE_KEYS, path
        assert hardware["device"] == "cpu" and hardware["gpu"] is None and hardware["cuda"] is None
        assert hardware["driver"] is None and hardware["torch"] == torch.__version__
        assert hardware["deterministic"] == FLAGS_ON, path  # default deterministic: true, set in the job's process
        rules.add(path.name)
    assert {"data.json", "train.json", "attack.json", "p1.json"} <= rules


def test_deterministic_false_leaves_torch_defaults_in_the_job(tmp_path):
    config = write_config(tmp_path / "nd.yaml", lambda c: c.update(deterministic=False))
    snakemake(tmp_path, "--cores", "1", "results/digits/data.json", configfile=config)
    flags = json.loads((tmp_path / "results/digits/data.json").read_text())["hardware"]["deterministic"]
    assert flags["use_deterministic_algorithms"] is False and flags["cudnn_deterministic"] is False
    assert flags["cuda_matmul_allow_tf32"] is True and flags["float32_matmul_precision"] == "high"


def test_set_deterministic_sets_the_documented_flags_in_a_fresh_process():
    code = ("import json, torch; from guided_retraining.hardware import set_deterministic, deterministic_flags;"
            "before = deterministic_flags(); set_deterministic(True);"
            "print(json.dumps([before, deterministic_flags()]))")
    env = {"PYTHONPATH": str(REPO / "src"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    before, after = json.loads(out)
    assert before["use_deterministic_algorithms"] is False and before["cublas_workspace_config"] is None
    assert after == FLAGS_ON


def test_device_note_says_when_auto_falls_back_to_the_cpu():
    from guided_retraining.hardware import device_note

    assert device_note("cpu") is None
    if torch.cuda.is_available():
        assert device_note("auto") is None
    else:
        assert device_note("auto").startswith("device: auto runs on the CPU: torch.cuda.is_available() is False")


def test_median_filter_sort_path_equals_kthvalue():
    """The CUDA path (stable sort) gives kthvalue's values, ties included; both run here on the CPU."""
    from guided_retraining.defences.feature_squeezing import _upper_median

    windows = torch.rand(3, 2, 5, 4, 9, generator=torch.Generator().manual_seed(0))
    windows[0, 0, :2] = 0.5  # ties
    windows[1] = torch.round(windows[1] * 3) / 3  # many ties
    for n in (4, 9):
        w = windows[..., :n]
        assert torch.equal(_upper_median(w, by_sort=True), _upper_median(w, by_sort=False))


# ---- loaders bounded --------------------------------------------------------------------------------

def _png(path, width, height):
    """A real 1-bit PNG of ``width`` x ``height`` black pixels (a decompression bomb when large: ~1000:1)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("width,height,words", [
    (20_000, 10_000, ["exceeds limit", "decompression bomb"]),  # Pillow's DecompressionBombError (> 2x its limit)
    (10_000, 10_000, ["10000x10000 = 100,000,000 pixels", "more than the 89,478,485"]),  # Pillow only warns here
])
def test_image_bombs_stop_with_the_data_error_naming_the_file(tmp_path, width, height, words):
    root = tmp_path / "images"
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(root / c / "a.png")
    bomb = _png(root / "dog" / "bomb.png", width, height)
    assert bomb.stat().st_size < 100_000
    for kwargs in ({}, {"size": 8}):  # the size scan (headers), and the loader that decodes
        with pytest.warns(Image.DecompressionBombWarning) if width * height < 2 * 89_478_485 else _nothing():
            with pytest.raises(DataError) as info:
                datasets.load("imagefolder", root, **kwargs)
        message = str(info.value)
        assert "\n" not in message and str(bomb) in message and "cannot read" in message, message
        for word in words:
            assert word in message, message


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_gzip_idx_header_announcing_more_than_the_file_can_hold(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + np.asarray([60000, 28, 28], dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + b"\x00" * 100))
    with pytest.raises(DataError, match=r"header announces \(60000, 28, 28\) bytes = 47040000, more than its \d+ "
                                        r"bytes \(gzip\) can hold"):
        read_idx("mnist", path, 3)


def test_gzip_idx_holding_more_than_its_header_stops_after_the_announced_bytes(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8)) + b"\x00" * 5_000_000))
    with pytest.raises(DataError, match=r"header announces \(10,\) bytes = 10, file holds more"):
        read_idx("mnist", path, 1)
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))))
    assert read_idx("mnist", path, 1).tolist() == list(range(10))


# ---- report text escaped -----------------------------------------------------------------------------

HOSTILE = ["x``\n\n.. include:: {secret}\n\n``", "x\r.. include:: {secret}\r",
           "x\u2028.. raw:: html\u2028\u2028   <b>hi</b>",
           "`click <javascript:alert(1)>`_", "<script>alert(1)</script>"]


@pytest.mark.parametrize("value", HOSTILE)
def test_report_captions_escape_config_values(tmp_path, value):
    """Every caption rendered as Snakemake renders it (Jinja, then docutils with its defaults: raw and
    include enabled), with a hostile value in every string the captions show (the config checks reject
    such values first; this is the second line)."""
    from types import SimpleNamespace

    from docutils.core import publish_parts
    from jinja2 import Environment

    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    value = value.format(secret=secret)
    config = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    validate_schema(config, SCHEMA)
    config.update(results=value, configurations=[value])
    config["datasets"] = {value: config["datasets"]["digits"]}
    config["attacks"], config["metrics"] = {value: {}}, {value: {}}
    # the landing page (workflow.rst) also gets the report's categories: one with the run's summary page
    summary_page = SimpleNamespace(path=Path(value) / "report/summary.html")
    category = type("Category", (), {"name": "1 Summary"})()  # hashable, as Snakemake's categories are
    categories = {category: {"": [summary_page]}}
    for caption in sorted((REPO / "workflow/report").glob("*.rst")):
        text = Environment().from_string(caption.read_text()).render(snakemake=SimpleNamespace(config=config),
                                                                     categories=categories)
        html = publish_parts(text, writer="html", settings_overrides={"report_level": 5})["body"]
        assert "SECRET-CONTENT" not in html and "<b>hi" not in html and "<script" not in html, caption.name
        assert "javascript:" not in html.replace("&lt;javascript:", ""), caption.name


# ---- device memory bounded ---------------------------------------------------------------------------

def test_batched_deepfool_in_memory_bounded_chunks_equals_one_batch(digits_data):
    """memory_mb small enough that the Jacobian (batch x 10 classes x 64 pixels) runs in chunks of 3 rows:
    the same adversarial inputs as one batch (inputs are independent in eval mode)."""
    from guided_retraining.attacks import make_attack
    from guided_retraining.models import build_model

    x = torch.from_numpy(digits_data[0][:12])
    model = build_model("digits_cnn", (1, 8, 8), 10, seed=0).eval()
    with torch.no_grad():
        y = model(x).argmax(1)  # every input classified "correctly": every one is attacked
    small = make_attack("deepfool", steps=3, memory_mb=3 * 4 * 10 * 64 * 4 / 2**20)
    assert small.chunk_rows(model, x) == 3
    big = make_attack("deepfool", steps=3)
    assert big.chunk_rows(model, x) == 12
    chunked, whole = small.perturb(model, x, y), big.perturb(model, x, y)
    assert (whole != x).flatten(1).any(1).sum() >= 6  # it did perturb
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)


def test_memory_budget_is_the_option_on_the_cpu():
    from guided_retraining.hardware import memory_budget_mb

    assert memory_budget_mb("cpu") == 1024.0 and memory_budget_mb("cpu", 12.5) == 12.5
    with pytest.raises(ConfigError, match="memory_mb: must be a positive number, got 0"):
        memory_budget_mb("cpu", 0)


def test_tables_say_when_they_pool_jobs_from_different_devices():
    from guided_retraining.tables import devices_note

    cpu = {"hardware": {"device": "cpu", "gpu": None, "deterministic": FLAGS_ON}}
    gpu = {"hardware": {"device": "cuda:1", "gpu": "NVIDIA H100", "deterministic": FLAGS_ON}}
    loose = {"hardware": {"device": "cuda:0", "gpu": "NVIDIA H100", "deterministic": {}}}
    assert devices_note([cpu, cpu]) == ""
    assert devices_note([gpu, gpu]) == "devices: cuda NVIDIA H100 (2 jobs)"
    assert devices_note([cpu, gpu, gpu, {}]) == ("devices: cpu (1 jobs), cuda NVIDIA H100 (2 jobs), device not recorded"
                                                 " (1 jobs): pooled from different devices")
    assert devices_note([gpu, loose]).endswith("cuda NVIDIA H100 (deterministic off) (1 jobs): pooled from different"
                                               " devices")
