"""Every package the application imports at run time is declared in [project.dependencies], so a plain
`pip install .` (no extras) can start it: the test extras never hide a missing runtime dependency (issue 35)."""

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for spec in project["dependencies"]:
        name = spec.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(_normal(name))
    return names


def _imported_top_modules() -> dict[str, str]:
    found = {}
    for package in ("opplevelseskort", "utstyr"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_a_declared_dependency():
    own = {"opplevelseskort", "utstyr"}
    by_module = packages_distributions()
    declared = _declared()
    missing = []
    for module, where in sorted(_imported_top_modules().items()):
        if module in own or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {_normal(d) for d in by_module.get(module, [])}
        if not dists:
            pytest.fail(f"{module} (imported in {where}) belongs to no installed distribution")
        if not dists & declared:
            missing.append(f"{module} ({', '.join(sorted(dists))}, imported in {where})")
    assert not missing, "imported but not in [project.dependencies]: " + "; ".join(missing)
