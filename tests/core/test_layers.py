"""The layers hold without back doors: no part reads another part's tables through the shared metadata, and the
lower parts' extension points are wired by the factory, not filled at import time."""

from pathlib import Path

import opplevelseskort
import utstyr
from opplevelseskort.partners.services import create_staff_user

SOURCES = [p for root in (Path(opplevelseskort.__file__).parent, Path(utstyr.__file__).parent)
           for p in root.rglob("*.py") if "migrations" not in p.parts]


def attribute_uses(source: str, outer: str, inner: str) -> list[int]:
    """Lines that read `<anything>.<outer>.<inner>` (e.g. `db.metadata.tables`)."""
    import ast

    return [n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute) and n.attr == inner
            and isinstance(n.value, ast.Attribute) and n.value.attr == outer]


def calls_of(source: str, name: str) -> list[int]:
    """Lines that call `name` (bare or as an attribute: `url_for(...)`, `flask.url_for(...)`)."""
    import ast

    return [n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def test_no_table_is_looked_up_through_the_shared_metadata():
    assert attribute_uses("t = db.metadata.tables['card']\n", "metadata", "tables") == [1]
    offenders = [f"{p}:{n}" for p in SOURCES for n in attribute_uses(p.read_text(encoding="utf-8"), "metadata", "tables")]
    assert not offenders, offenders


def test_only_the_two_plug_in_points_remain_and_the_factory_fills_them(app):
    import pytest

    from opplevelseskort.core import hooks

    assert hooks.NAMES == ("metric_counts", "demo_data")
    with app.app_context():
        # partners, cards, money, check-ins, equipment, wishes, reports
        assert len(hooks.providers("demo_data")) == 7
        assert len(hooks.providers("metric_counts")) == 2  # check-ins and loans
    with pytest.raises(ValueError):  # a page that needs a higher part lives in that part, not behind a hook
        hooks.provide(app, "card_page_offers", lambda card: [])


def _imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, as absolute dotted names (relative imports resolved)."""
    import ast

    package = ".".join(path.relative_to(path.parents[len(path.parents) - 1]).with_suffix("").parts)
    root = Path(opplevelseskort.__file__).parent.parent
    package = ".".join(path.resolve().relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            mod = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            found |= {mod} | {f"{mod}.{a.name}" for a in node.names}
    return found


def test_no_service_imports_view_code():
    """Services return data; links, pages and forms are the views'. A service module that imports a views module
    (its own part's or another's) would call view code."""
    services = [p for p in SOURCES if p.name in ("services.py", "applications.py", "statements.py", "demo.py")
                or p.parent.name == "reports" and p.name not in ("views.py", "forms.py")]
    offenders = [f"{p.parent.name}/{p.name}: {m}" for p in services for m in _imported_modules(p)
                 if m.endswith(".views") or ".views." in m]
    assert services and not offenders, offenders


def test_the_import_check_sees_a_view_import(tmp_path):
    pkg = Path(opplevelseskort.__file__).parent / "cards"
    probe = pkg / "_probe_services.py"
    probe.write_text("from . import views\nfrom ..partners.views import bp\n")
    try:
        assert {"opplevelseskort.cards.views", "opplevelseskort.partners.views.bp"} <= _imported_modules(probe)
    finally:
        probe.unlink()


def test_the_menu_is_wired_by_the_factory(app):
    """Each part lists its entries as data (MENU, COUNTS); the factory gives them to the app: no module-level list
    filled as a side effect of an import."""
    from opplevelseskort.core import nav

    offenders = [str(p) for p in SOURCES if "nav.register" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders
    items, counts = app.extensions["opplevelseskort.nav"]
    assert {i.endpoint for i in items} >= {"cards.children", "checkin.scanner", "partners.catalogue", "utstyr.home",
                                           "reports.dashboard", "accounts.users"}
    assert len(counts) == 4
    assert not any(isinstance(v, list) and v and isinstance(v[0], nav.NavItem) for v in vars(nav).values())


def test_one_today_in_norwegian_time():
    """`date.today()` is the server's day (UTC in a container): ruff's DTZ rules refuse it (and naive `now()`) in
    the application, so every part uses core.clock.today (Europe/Oslo). Shown to catch it on a probe."""
    import subprocess
    import sys
    import tomllib
    from datetime import UTC, datetime
    from unittest import mock

    config = tomllib.loads((Path(opplevelseskort.__file__).parent.parent / "pyproject.toml").read_text())
    assert "DTZ" in config["tool"]["ruff"]["lint"]["select"]
    probe = "from datetime import date\n\n\ndef f():\n    return date.today()\n"
    found = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "DTZ", "--stdin-filename",
                            "opplevelseskort/x.py", "-"], input=probe, capture_output=True, text=True)
    assert found.returncode == 1 and "DTZ011" in found.stdout
    from opplevelseskort.core import clock

    with mock.patch("opplevelseskort.core.types.utcnow", return_value=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)):
        assert str(clock.today()) == "2027-01-01"  # half past midnight in Oslo


def test_the_database_refuses_a_value_no_enum_has(app, users):
    """Role and every status are checked by the database, not only by Python (migration 0011)."""
    import pytest
    import sqlalchemy as sa

    from opplevelseskort.extensions import db

    for table, column in (("user_account", "role"), ("partner", "status"), ("partner", "kind")):
        assert db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() > 0
        with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
            db.session.execute(sa.text(f"UPDATE {table} SET {column} = 'nonsense'"))


def test_core_tables_point_at_no_part_above_core(app):
    """Core's tables reference only core's tables, with one named exception: who acted (an audit row, a job run)
    is a staff account, kept by accounts, pointed at by table name and set to NULL when the account goes. Which
    partner a user works for is kept by partners; the account's own table knows no part above it either."""
    from opplevelseskort.extensions import db

    def upward(module: str, allowed: set[str]) -> list[str]:
        tables = {m.class_.__table__.name for m in db.Model.registry.mappers if m.class_.__module__ == module}
        return [f"{t}.{fk.parent.name} -> {fk.column.table.name}" for t in tables
                for fk in db.metadata.tables[t].foreign_keys
                if fk.column.table.name not in tables | allowed
                and not (fk.parent.name == "actor_id" and fk.column.table.name == "user_account"
                         and fk.ondelete == "SET NULL")]

    assert upward("opplevelseskort.core.models", set()) == []
    assert upward("opplevelseskort.accounts.models", {"municipality"}) == []
    assert upward("opplevelseskort.zones.models", {"municipality"}) == []


def registrations_at_import(source: str) -> list[int]:
    """Lines where a module calls something as a statement of its own at import (`nav.register(...)`,
    `hooks.provide(...)`, `x.add_command(...)`): registration as a side effect of importing."""
    import ast

    return [n.lineno for n in ast.parse(source).body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)]


def test_no_part_registers_itself_at_import():
    """Menus, hooks, demo data and commands are wired by the factory, not by a module's import."""
    assert registrations_at_import("import x\nx.register('a')\nbp = Blueprint('b')\n\ndef f():\n    g()\n") == [2]
    offenders = [f"{p.parent.name}/{p.name}:{n}" for p in SOURCES for n in registrations_at_import(p.read_text())]
    assert not offenders, offenders


def test_a_partner_user_is_tied_only_to_a_partner_of_their_municipality(app, users, muni, other_muni):
    import pytest

    from opplevelseskort.core.errors import DomainError
    from opplevelseskort.partners import services as partners

    from ..factories import approved_partner

    elsewhere = approved_partner(other_muni, "Klubb B", "910000001")
    with pytest.raises(DomainError) as exc:
        create_staff_user("p2@test.no", "gront eple 47", "partner", municipality_id=muni.id, partner_id=elsewhere.id)
    assert exc.value.code == "partner_unknown"
    with pytest.raises(DomainError) as exc:
        create_staff_user("p3@test.no", "gront eple 47", "partner", municipality_id=muni.id)
    assert exc.value.code == "partner_required"
    partner = users["partner"]
    own = partners.partner_id_of(partner)
    partners.update_staff_user(partner, actor=users["admin"], role="volunteer")  # another role: the tie goes
    assert partners.partner_id_of(partner) is None
    partners.update_staff_user(partner, actor=users["admin"], role="partner", partner_id=own)
    assert partners.partner_id_of(partner) == own


def test_services_return_data_and_views_build_links():
    """Links are the view layer's. The one exception: the card links that go out in SMS and e-mail (cards)."""
    allowed = {("cards", "services.py")}
    assert calls_of("from flask import url_for as u\nx = flask.url_for('a')\ny = url_for('b')\n", "url_for") == [2, 3]
    offenders = [f"{p.parent.name}/{p.name}" for p in SOURCES if p.name in ("services.py", "applications.py")
                 and (p.parent.name, p.name) not in allowed and calls_of(p.read_text(encoding="utf-8"), "url_for")]
    assert not offenders, offenders


# Imported when first needed, not at start-up: the solver, the PDF and geometry stacks, optional back-ends.
LAZY = {"scipy", "numpy", "fpdf", "shapely", "pyproj", "PIL", "redis", "alembic", "prometheus_client", "pyogrio"}


def imports_inside_functions(source: str) -> list[tuple[int, str]]:
    """(line, module) of each import made inside a function, other than of the heavy libraries in LAZY."""
    import ast

    found = {}
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    module = node.names[0].name if isinstance(node, ast.Import) else "." * node.level + (node.module or "")
                    if module.split(".")[0] not in LAZY:
                        found[node.lineno] = module
    return sorted(found.items())


def test_imports_are_at_the_top_of_modules():
    """A module says what it depends on at its top. Only the app factory imports the parts inside its functions
    (after the extensions exist), and heavy libraries load when first used."""
    assert imports_inside_functions("import os\n\ndef f():\n    from .models import X\n    import numpy\n") == [(4, ".models")]
    offenders = [f"{p.parent.name}/{p.name}:{n} {m}" for p in SOURCES
                 if p != Path(opplevelseskort.__file__) for n, m in imports_inside_functions(p.read_text())]
    assert not offenders, offenders


def test_core_holds_no_route_for_sign_in_or_zones(app):
    """Sign-in is the accounts part's, zones the zones part's: core's blueprint serves the platform's pages only
    (home, dashboard, language, jobs, the municipality's settings, accessibility)."""
    theirs = ("/logg-inn", "/logg-ut", "/konto", "/passord", "/api-nokler", "/admin/brukere", "/admin/soner", "/soner")
    core_paths = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("core.")]
    assert core_paths and not [p for p in core_paths if p.startswith(theirs)], core_paths
    by_part = {r.endpoint.split(".")[0] for r in app.url_map.iter_rules() if r.rule.startswith(theirs)}
    assert by_part == {"accounts", "zones", "partners"}  # partners: a staff user's page with the partner tie
