"""Rewrite the fragments of the repository's files that derive from the registries.

Run from the repository root (or give ``--root``): ``python -m guided_retraining.regenerate`` rewrites
every stale fragment in place and names each file it changed; ``--check`` changes nothing and exits 1
naming the stale ones (tests/test_regenerate.py runs it). Each fragment is one ``Fragment``: the file,
a pattern matching the fragment (its first group the text to keep before, its last group the text to
keep after) and the text the registry gives.

Fragments: the schema's ``loader`` enum (``datasets.LOADERS``), its three enums of attack and shift kinds (the
grid's, ``adv_test``'s and the defences', ``kinds.names``), docs/metrics.md's metric table
(``metrics.registry.readme_table``), docs/figures-and-tables.md's list of tables (``table_registry.docs_rows``),
docs/datasets.md's loader table (``datasets.docs_table``) and docs/attacks.md's table of attack and shift kinds
(``kinds.docs_table``).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SCHEMA = Path("workflow/schemas/config.schema.yaml")
METRICS_DOC = Path("docs/metrics.md")
TABLES_DOC = Path("docs/figures-and-tables.md")
DATASETS_DOC = Path("docs/datasets.md")
ATTACKS_DOC = Path("docs/attacks.md")


@dataclass(frozen=True)
class Fragment:
    """A generated part of ``path``: ``pattern`` matches it exactly once (groups: before, generated,
    after); ``render()`` is what the registry gives."""

    name: str
    path: Path
    pattern: str
    render: Callable[[], str]

    def apply(self, text: str) -> str:
        """``text`` with the fragment rendered anew; ValueError unless the pattern matches once."""
        found = list(re.finditer(self.pattern, text, flags=re.M))
        if len(found) != 1:
            raise ValueError(f"{self.path}: {self.name}: expected one match of {self.pattern!r}, found {len(found)}")
        m = found[0]
        return text[:m.start(2)] + self.render() + text[m.end(2):]


def _loader_enum() -> str:
    from .datasets import LOADERS

    return ", ".join(LOADERS)


def _kinds(use: str) -> Callable[[], str]:
    def render() -> str:
        from .kinds import names

        return ", ".join(names(use))
    return render


def _kinds_table() -> str:
    from .kinds import docs_table

    return docs_table()


def _kind_enum(definition: str, use: str) -> Fragment:
    """The ``kind`` enum of the schema's ``$defs.<definition>``: the kinds declared for ``use``."""
    return Fragment(f"the schema's {definition} kind enum", SCHEMA,
                    rf"^(  {definition}:\n(?:    .*\n)*?      kind: \{{type: string, enum: \[)([^\]]*)(\]\}})",
                    _kinds(use))


def _metric_table() -> str:
    from .metrics.registry import readme_table

    return readme_table()


def _loader_table() -> str:
    from .datasets import docs_table

    return docs_table()


def _table_rows() -> str:
    from .table_registry import docs_rows

    return docs_rows()


FRAGMENTS = [
    Fragment("the schema's loader enum", SCHEMA, r"^(\s+loader: \{type: string, enum: \[)([^\]]*)(\]\})",
             _loader_enum),
    _kind_enum("attack", "grid"),
    _kind_enum("test_attack", "adv_test"),
    _kind_enum("eval_attack", "defences"),
    Fragment("the docs' metric table", METRICS_DOC,
             r"^()(\| kind \| score \(higher = picked first\) \|.*\n(?:\|.*\n)*)()", _metric_table),
    Fragment("the docs' list of tables", TABLES_DOC,
             r"^(<!-- the tables: generated .*-->\n)((?:.*\n)*?)(<!-- end of the generated tables -->)$", _table_rows),
    Fragment("the docs' loader table", DATASETS_DOC,
             r"^(<!-- the loaders: generated .*-->\n)((?:.*\n)*?)(<!-- end of the generated loaders -->)$", _loader_table),
    Fragment("the docs' table of attack and shift kinds", ATTACKS_DOC,
             r"^(<!-- the kinds: generated .*-->\n)((?:.*\n)*?)(<!-- end of the generated kinds -->)$", _kinds_table),
]


def stale(root: Path, fragments=FRAGMENTS) -> dict[Path, str]:
    """``{path: regenerated text}`` of every file under ``root`` whose fragments are stale."""
    texts: dict[Path, str] = {}
    for fragment in fragments:
        path = root / fragment.path
        texts[path] = fragment.apply(texts.get(path, path.read_text()))
    return {path: text for path, text in texts.items() if text != path.read_text()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guided_retraining.regenerate", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root (default: here)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a fragment is stale")
    args = parser.parse_args(argv)
    try:
        changed = stale(args.root)
    except (OSError, ValueError) as exc:  # a file missing or its fragment not found: one line, no traceback
        print(f"regenerate: {exc}", file=sys.stderr)
        return 2
    for path, text in changed.items():
        if args.check:
            print(f"stale: {path} (run python -m guided_retraining.regenerate)")
        else:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text)
            tmp.replace(path)
            print(f"rewrote {path}")
    return 1 if changed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
