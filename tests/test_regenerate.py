"""``python -m guided_retraining.regenerate``: the generated fragments are fresh; a stale one is named by
``--check`` and rewritten without it."""

import os
import shutil
import subprocess
import sys

from conftest import REPO

from guided_retraining.datasets import LOADERS

SCHEMA = "workflow/schemas/config.schema.yaml"


def regenerate(root, *args):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "guided_retraining.regenerate", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_generated_fragments_are_fresh():
    proc = regenerate(REPO, "--check")
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr


def test_a_stale_fragment_is_named_then_rewritten(tmp_path):
    (tmp_path / "workflow/schemas").mkdir(parents=True)
    fresh = (REPO / SCHEMA).read_text()
    line = f"loader: {{type: string, enum: [{', '.join(LOADERS)}]}}"
    assert fresh.count(line) == 1
    (tmp_path / SCHEMA).write_text(fresh.replace(line, "loader: {type: string, enum: [digits, mnist]}"))
    proc = regenerate(tmp_path, "--check")
    assert (proc.returncode, proc.stdout) == (1, f"stale: {SCHEMA} (run python -m guided_retraining.regenerate)\n")
    proc = regenerate(tmp_path)
    assert (proc.returncode, proc.stdout) == (0, f"rewrote {SCHEMA}\n")
    assert (tmp_path / SCHEMA).read_text() == fresh
    assert regenerate(tmp_path, "--check").returncode == 0
