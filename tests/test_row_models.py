"""Every CSV importer reads its rows through a row model (core.csvfile.TableReader: columns by their header,
each value validated and a problem named by line), never raw cells by index (issue 38)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def raw_cell_reads(source: str) -> list[int]:
    """Lines that read raw rows for their data: `raw_rows(...)`, or `iter_raw_rows(...)` other than to peek at a
    header with `next(...)`."""
    tree = ast.parse(source)
    peeked = {id(n.args[0]) for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "next"
              and n.args}
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "attr", getattr(n.func, "id", "")) in ("raw_rows", "iter_raw_rows")
            and id(n) not in peeked]


def test_the_check_sees_a_raw_read():
    assert raw_cell_reads("rows = csvfile.raw_rows(data)\nfor l, c in csvfile.iter_raw_rows(d):\n    pass\n") == [1, 2]
    assert raw_cell_reads("header = next(csvfile.iter_raw_rows(data), (0, []))[1]\n") == []


def test_no_importer_reads_raw_cells():
    sources = [p for root in ("opplevelseskort", "utstyr") for p in (ROOT / root).rglob("*.py")
               if p.name != "csvfile.py"]
    offenders = {str(p.relative_to(ROOT)): lines for p in sources if (lines := raw_cell_reads(p.read_text()))}
    assert offenders == {}
