"""Issue 24's refactor (rule params and result paths from one place, settings objects) keeps the results: every
file the tiny study writes to results/tables/ equals, byte for byte, the one main's code wrote at commit e5bc184,
before the refactor (tests/golden/tiny/, made by `snakemake --cores 2 --configfile tiny.yaml` as the tiny_run
fixture runs it). What is compared and what is left out (wall and CPU times; the machine description in each
table's provenance JSON) is stated in tests/table_identity.py. objectives_overview.* are a table added after
e5bc184 (issue 23), made by the first code that wrote it; when a change is meant to alter a table, its golden
files are made again and the commit says so."""

from pathlib import Path

import pytest

from table_identity import TIMED, differences, stem_of

pytestmark = pytest.mark.workflow

GOLDEN = Path(__file__).resolve().parent / "golden" / "tiny"


def test_the_tiny_studys_tables_are_those_of_main_before_the_refactor(tiny_run):
    tables = tiny_run / "results" / "tables"
    made = sorted(p.name for p in tables.iterdir())
    golden = sorted(p.name for p in GOLDEN.iterdir())
    assert golden and made == golden, set(made) ^ set(golden)
    assert {stem_of(n) for n in made} >= TIMED  # the timed tables are written, compared without their times
    assert differences(GOLDEN, tables) == []


def test_the_comparison_sees_one_changed_digit(tmp_path):
    """A table whose last digit changed, or a timed table with another accuracy, is a difference; another
    wall time in a timed table and another machine in a provenance JSON are not."""
    import shutil

    changed = tmp_path / "tables"
    shutil.copytree(GOLDEN, changed)
    assert differences(GOLDEN, changed) == []
    table3 = changed / "table3.csv"
    text = table3.read_text()
    last = len(text.rstrip()) - 1
    table3.write_text(text[:last] + ("1" if text[last] != "1" else "2") + text[last + 1:])
    provenance = changed / "table3.json"
    provenance.write_text(provenance.read_text().replace('"versions": {', '"versions": {"elsewhere": 1, ', 1))
    assert differences(GOLDEN, changed) == ["table3.csv"]
    timed = changed / "retraining_time.csv"
    lines = timed.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("seconds")], row[header.index("hh:mm:ss")] = "99.5", "00:01:39"  # another wall time: the same
    timed.write_text("\n".join([lines[0], ",".join(row)] + lines[2:]) + "\n")
    assert differences(GOLDEN, changed) == ["table3.csv"]
    row[header.index("points")] = "4"  # another number of points: a difference
    timed.write_text("\n".join([lines[0], ",".join(row)] + lines[2:]) + "\n")
    assert differences(GOLDEN, changed) == ["retraining_time.csv", "table3.csv"]
