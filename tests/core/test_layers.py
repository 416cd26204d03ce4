"""The layers hold without back doors: no part reads another part's tables through the shared metadata, and the
lower parts' extension points are wired by the factory, not filled at import time."""

from pathlib import Path

import opplevelseskort
import utstyr

SOURCES = [p for root in (Path(opplevelseskort.__file__).parent, Path(utstyr.__file__).parent)
           for p in root.rglob("*.py") if "migrations" not in p.parts]


def test_no_table_is_looked_up_through_the_shared_metadata():
    offenders = [str(p) for p in SOURCES if "metadata.tables" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


def test_extension_points_are_wired_by_the_factory(app):
    from opplevelseskort.core import hooks

    with app.app_context():
        names = {"partner_choices", "attach_partner", "partner_of", "card_page_offers", "card_page_bookings",
                 "children_checked_in", "metric_counts", "demo_partner", "demo_data"}
        assert {name for name in names if hooks.providers(name)} == names
        assert len(hooks.providers("demo_data")) == 3  # offers, cards, equipment
        assert len(hooks.providers("metric_counts")) == 2  # check-ins and loans


def test_one_today_in_norwegian_time():
    """`date.today()` is the server's day (UTC in a container): every part uses core.i18n.today (Europe/Oslo)."""
    from datetime import UTC, datetime
    from unittest import mock

    offenders = [str(p) for p in SOURCES if "date.today()" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders
    from opplevelseskort.core import i18n

    with mock.patch("opplevelseskort.core.types.utcnow", return_value=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)):
        assert str(i18n.today()) == "2027-01-01"  # half past midnight in Oslo


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
    """Core's tables reference only core's tables: which partner a user works for is kept by partners."""
    from opplevelseskort.extensions import db

    core_tables = {m.class_.__table__.name for m in db.Model.registry.mappers
                   if m.class_.__module__ == "opplevelseskort.core.models"}
    upward = [f"{t}.{fk.parent.name} -> {fk.column.table.name}" for t in core_tables
              for fk in db.metadata.tables[t].foreign_keys if fk.column.table.name not in core_tables]
    assert core_tables and not upward, upward


def test_no_part_registers_itself_in_a_lower_one_at_import():
    """Demo data and providers are wired by the factory (core.hooks), not appended to core's lists at import."""
    offenders = [str(p) for p in SOURCES for needle in ("demo.register(", "set_partner_provider(", "PROVIDERS.append(")
                 if needle in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


def test_a_partner_user_is_tied_only_to_a_partner_of_their_municipality(app, users, muni, other_muni):
    import pytest

    from opplevelseskort.core import services as core
    from opplevelseskort.core.errors import DomainError
    from opplevelseskort.partners import services as partners

    from ..factories import approved_partner

    elsewhere = approved_partner(other_muni, "Klubb B", "910000001")
    with pytest.raises(DomainError) as exc:
        core.create_user("p2@test.no", "gront eple 47", "partner", municipality_id=muni.id, partner_id=elsewhere.id)
    assert exc.value.code == "partner_unknown"
    with pytest.raises(DomainError) as exc:
        core.create_user("p3@test.no", "gront eple 47", "partner", municipality_id=muni.id)
    assert exc.value.code == "partner_required"
    partner = users["partner"]
    own = partners.partner_id_of(partner)
    core.update_user(partner, actor=users["admin"], role="volunteer")  # another role: the tie goes
    assert partners.partner_id_of(partner) is None
    core.update_user(partner, actor=users["admin"], role="partner", partner_id=own)
    assert partners.partner_id_of(partner) == own


def test_services_return_data_and_views_build_links():
    """Links are the view layer's. The one exception: the card links that go out in SMS and e-mail (cards)."""
    allowed = {("cards", "services.py")}
    offenders = [f"{p.parent.name}/{p.name}" for p in SOURCES if p.name in ("services.py", "applications.py")
                 and (p.parent.name, p.name) not in allowed and "url_for(" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders
