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
        wired = {name for name in ("partner_choices", "card_page_offers", "card_page_bookings",
                                   "children_checked_in", "metric_counts") if hooks.providers(name)}
        assert wired == {"partner_choices", "card_page_offers", "card_page_bookings", "children_checked_in",
                         "metric_counts"}
        assert len(hooks.providers("metric_counts")) == 2  # check-ins and loans
    offenders = [str(p) for p in SOURCES if "PROVIDERS.append(" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


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
