"""The test suite as a specification: shared test data comes from tests/factories.py (through the services), not
from another part's conftest, and no assertion accepts "either answer"."""

import re
from pathlib import Path

TESTS = Path(__file__).parent
FILES = [p for p in TESTS.rglob("*.py") if "vendor" not in p.parts]


def test_no_test_imports_another_parts_conftest():
    pattern = re.compile(r"from \.+(\w+)\.conftest import|from tests\.(\w+)\.conftest import")
    offenders = [f"{p.relative_to(TESTS)}: {m.group(0)}" for p in FILES for m in pattern.finditer(p.read_text())]
    assert not offenders, offenders


def test_no_assertion_accepts_either_status():
    """`status_code in (404, 422)` passes whichever way the code goes: each case says which it expects."""
    pattern = re.compile(r"assert .*(status_code|\.code|\[\"error\"\]) in [({]")
    offenders = [f"{p.relative_to(TESTS)}:{n}" for p in FILES
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders
