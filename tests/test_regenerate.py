"""``python -m guided_retraining.regenerate``: the generated fragments are fresh; a stale one is named by
``--check`` and rewritten without it."""

import os
import subprocess
import sys

from conftest import REPO

from guided_retraining.attacks import ATTACKS
from guided_retraining.datasets import LOADERS
from guided_retraining.datasets import docs_table as loader_table
from guided_retraining.kinds import docs_table
from guided_retraining.metrics.registry import readme_table
from guided_retraining.table_registry import docs_rows

SCHEMA = "workflow/schemas/config.schema.yaml"
METRICS_DOC = "docs/metrics.md"
TABLES_DOC = "docs/figures-and-tables.md"
DATASETS_DOC = "docs/datasets.md"
ATTACKS_DOC = "docs/attacks.md"


def regenerate(root, *args):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "guided_retraining.regenerate", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_generated_fragments_are_fresh():
    proc = regenerate(REPO, "--check")
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr


def test_stale_fragments_are_named_then_rewritten(tmp_path):
    (tmp_path / "workflow/schemas").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    docs = (SCHEMA, METRICS_DOC, TABLES_DOC, DATASETS_DOC, ATTACKS_DOC)
    schema, metrics_doc, tables_doc, datasets_doc, attacks_doc = ((REPO / p).read_text() for p in docs)
    line = f"loader: {{type: string, enum: [{', '.join(LOADERS)}]}}"
    # the defences' attack kinds: the declared ones for them, beside none (dgn: the grid's only)
    eval_line = f"kind: {{type: string, enum: [none, {', '.join(k for k in ATTACKS if k != 'dgn')}]}}"
    last_row = readme_table().splitlines(keepends=True)[-1]
    table_row = next(r for r in docs_rows().splitlines(keepends=True) if r.startswith("| `table4` |"))
    loader_row = next(r for r in loader_table().splitlines(keepends=True) if r.startswith("| `mnist` |"))
    kind_row = next(r for r in docs_table().splitlines(keepends=True) if r.startswith("| `pgd` |"))
    assert schema.count(line) == 1 and metrics_doc.count(last_row) == 1 and tables_doc.count(table_row) == 1
    assert schema.count(eval_line) == 1 and attacks_doc.count(kind_row) == 1 and datasets_doc.count(loader_row) == 1
    (tmp_path / SCHEMA).write_text(schema.replace(line, "loader: {type: string, enum: [digits, mnist]}")
                                   .replace(eval_line, eval_line.replace("mix]", "mix, dgn]")))
    (tmp_path / METRICS_DOC).write_text(metrics_doc.replace(last_row, ""))  # a metric without its row
    (tmp_path / TABLES_DOC).write_text(tables_doc.replace(table_row, ""))  # a declared table without its row
    (tmp_path / DATASETS_DOC).write_text(datasets_doc.replace(loader_row, ""))  # a declared loader without its row
    (tmp_path / ATTACKS_DOC).write_text(attacks_doc.replace(kind_row, ""))  # a declared kind without its row
    proc = regenerate(tmp_path, "--check")
    assert proc.returncode == 1
    hint = "(run python -m guided_retraining.regenerate)"
    assert proc.stdout == "".join(f"stale: {p} {hint}\n" for p in docs)
    proc = regenerate(tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "".join(f"rewrote {p}\n" for p in docs))
    for path, text in zip(docs, (schema, metrics_doc, tables_doc, datasets_doc, attacks_doc)):
        assert (tmp_path / path).read_text() == text
    assert regenerate(tmp_path, "--check").returncode == 0


def test_a_missing_fragment_is_one_line(tmp_path):
    (tmp_path / "workflow/schemas").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / SCHEMA).write_text((REPO / SCHEMA).read_text())
    (tmp_path / METRICS_DOC).write_text("# Metrics\n\n(the table was deleted)\n")
    proc = regenerate(tmp_path, "--check")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"regenerate: {METRICS_DOC}: ") and "metric table: expected one match" in proc.stderr
