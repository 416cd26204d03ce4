"""A house a newcomer can read (issue 38): no function above cyclomatic complexity 25, measured with radon (the
measure the project states; ruff's own check counts differently), and no module of the package above 600 lines."""

from __future__ import annotations

from pathlib import Path

from radon import complexity as radon_complexity

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 25
MAX_LINES = 600


def _sources():
    return sorted([*ROOT.joinpath("opplevelseskort").rglob("*.py"), *ROOT.joinpath("utstyr").rglob("*.py")])


def _blocks(path: Path):
    for block in radon_complexity.cc_visit(path.read_text()):
        for item in [block, *getattr(block, "closures", []), *getattr(block, "methods", [])]:
            yield item.name, item.complexity


def test_no_function_above_complexity_25():
    assert max(cc for _n, cc in _blocks_of("def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n"
                                                                     for i in range(30)))) > LIMIT
    over = {(p.relative_to(ROOT).as_posix(), name): cc for p in _sources() for name, cc in _blocks(p) if cc > LIMIT}
    assert over == {}, f"above {LIMIT}: {over}"


def _blocks_of(source: str):
    for block in radon_complexity.cc_visit(source):
        yield block.name, block.complexity


def test_no_module_above_600_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in _sources()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, long
