"""Shared fixtures: one app per test session, each test inside a transaction that is rolled back.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL (or DATABASE_URL)
points to one. With CI=true, PostgreSQL-only tests fail instead of skipping when it is missing.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from opplevelseskort import create_app
from opplevelseskort.core import jobs
from opplevelseskort.core import municipalities as services
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db
from opplevelseskort.partners.services import create_staff_user
from opplevelseskort.zones import imports as zone_imports
from opplevelseskort.zones import services as zones

from .oidc_provider import canaille, canaille_server  # noqa: F401  (a real OpenID provider for sign-in tests)

# Each test runs inside an outer transaction on one connection: the application's own commit() then only
# releases a savepoint of it, and the test's end rolls everything back (a test setting, not the app's).
db.session.session_factory.configure(join_transaction_mode="create_savepoint")

CI = os.environ.get("CI", "").lower() == "true"
BASE_DB_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
IS_PG = BASE_DB_URL.startswith(("postgresql", "postgres"))
PASSWORD = "gront eple 47"

TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SKIP_LOGGING_CONFIG": True,
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    "SECRET_KEY": "test-secret",
    "SERVER_NAME": "localhost",
    "PUBLIC_BASE_URL": "http://localhost",
    # the test worlds are a handful of children: zone levels are published however small (the plan's density rule
    # is tested on its own in tests/reports/test_disclosure_rules.py)
    "REPORT_ZONE_MIN_CARDS": 0,
    "REPORT_REFRESH_SECONDS": 0,  # a test that changes data and reads the report again sees the change
    "API_TOKEN_CACHE_SECONDS": 0,  # a token revoked or a user disabled in a test stops at once (the cache: own tests)
    # jobs run inside the request that queues them (the queue itself is tested with a worker on its own)
    "JOBS_IMMEDIATE": True,
    "JOBS_EMBEDDED_WORKER": False,
}


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests belong to the PostgreSQL pass: deselected (not skipped) on SQLite.

    tools/test.sh always runs that pass, and with CI=true it fails when PostgreSQL is missing.
    """
    if IS_PG:  # tests of SQLite itself belong to the SQLite pass
        sqlite_only = [item for item in items if "sqlite" in item.keywords]
        if sqlite_only:
            config.hook.pytest_deselected(items=sqlite_only)
            items[:] = [item for item in items if "sqlite" not in item.keywords]
        return
    pg_only = [item for item in items if "pg" in item.keywords]
    if pg_only:
        config.hook.pytest_deselected(items=pg_only)
        items[:] = [item for item in items if "pg" not in item.keywords]


def _worker_db_url(worker: str) -> str:
    """A fresh PostgreSQL database per xdist worker, so workers never share tables."""
    url = sa.engine.make_url(BASE_DB_URL.replace("postgresql://", "postgresql+psycopg://", 1)
                             if BASE_DB_URL.startswith("postgresql://") else BASE_DB_URL)
    name = f"{url.database}_ok_{worker}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory, worker_id):
    if IS_PG:
        return _worker_db_url(worker_id)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture(scope="session")
def app(db_url, tmp_path_factory):
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": db_url,
                              "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    with application.app_context():
        db.create_all()
    return application


_CURRENT_CONNECTION: list = []


@contextlib.contextmanager
def transactional(application):
    """Run the block inside an outer transaction; the app's commits only release savepoints."""
    with application.app_context():
        engines = db.engines
        engine = engines[None]
        conn = engine.connect()
        outer = conn.begin()
        engines[None] = conn
        _CURRENT_CONNECTION.append(conn)
        try:
            yield
        finally:
            _CURRENT_CONNECTION.pop()
            db.session.remove()
            engines[None] = engine
            outer.rollback()
            conn.close()


@pytest.fixture(autouse=True)
def _jobs_run_at_once(app, request):
    """Each test starts with the suite's queue (jobs at once, inside the request). The queue is one per process, so
    a test that makes an app with a real queue must put this one back; one that does not is named here, instead
    of the later tests in its process whose jobs then wait, queued, for a worker that never comes."""
    yield
    if not jobs.queue.immediate:
        jobs.init_app(app)
        pytest.fail(f"{request.node.nodeid} left the job queue without jobs at once: put it back (jobs.init_app)")


@pytest.fixture(scope="session", autouse=True)
def _fresh_request_globals():
    """Tests hold one app context across requests; forget per-request state (the logged-in user) between them."""
    from flask import g, request_started

    def reset(sender, **extra):
        for key in ("_login_user", "token_auth", "api_token_id", "forced_locale", "referrer_policy"):
            g.pop(key, None)
        from flask_babel import refresh

        refresh()  # Flask-Babel caches the locale on the (shared) app context
        # What the test set up before the request counts as committed data: a view that rolls back
        # on a refused input must not undo the fixtures (the outer transaction still ends the test).
        if _CURRENT_CONNECTION:
            db.session.commit()

    request_started.connect(reset)
    yield
    request_started.disconnect(reset)


@pytest.fixture
def make_app(db_url, tmp_path):
    """Another app on the same database with different settings (CSRF on, rate limits on...)."""

    def factory(**overrides):
        other = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": db_url, "INSTANCE_PATH": str(tmp_path),
                            **overrides})
        if _CURRENT_CONNECTION:  # share the test's transaction, so data made in the test is visible
            with other.app_context():
                db.engines[None] = _CURRENT_CONNECTION[-1]
        return other

    return factory


@pytest.fixture(autouse=True)
def _db(request, app):
    if "committing" in request.fixturenames:
        # Real commits seen by other connections (concurrency tests); the tables are emptied afterwards.
        with app.app_context():
            try:
                yield
            finally:
                db.session.remove()
                tables = [t.name for t in reversed(db.metadata.sorted_tables)]
                with db.engine.begin() as conn:
                    if db.engine.dialect.name == "postgresql":
                        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                             + " RESTART IDENTITY CASCADE"))
                    else:
                        for t in tables:
                            conn.execute(sa.text(f'DELETE FROM "{t}"'))
        return
    with transactional(app):
        yield


@pytest.fixture
def committing():
    """Marks a test that needs real commits (see _db)."""
    return True


@pytest.fixture
def client(app):
    return app.test_client()


GRID_GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"grunnkretsnummer": code, "grunnkretsnavn": name},
         "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01],
                                                          [x, y + 0.01], [x, y]]]}}
        for code, name, x, y in [
            ("30010101", "Elvekanten", 10.00, 59.90), ("30010102", "Bakken", 10.01, 59.90),
            ("30010201", "Skogen", 10.00, 59.91),
        ]
    ],
}


@pytest.fixture
def muni():
    return services.get_or_create_municipality("3001", "Testby")


@pytest.fixture
def other_muni():
    return services.get_or_create_municipality("3002", "Nabobygd")


@pytest.fixture
def zone_set(muni):
    """Three grunnkretser with square boundaries in two delområder (300101, 300102)."""
    import json

    zone_imports.import_zones_geojson(muni, json.dumps(GRID_GEOJSON), code_property="grunnkretsnummer",
                               name_property="grunnkretsnavn", level="grunnkrets", parent_prefix=6)
    db.session.flush()
    return {z.code: z for z in db.session.scalars(db.select(zones.Zone).filter_by(municipality_id=muni.id))}


@pytest.fixture
def partner_org(muni):
    from .factories import approved_partner

    return approved_partner(muni, "Testby IL", "974760673")


@pytest.fixture
def other_partner_org(muni):
    from .factories import approved_partner

    return approved_partner(muni, "Annen klubb", "923609016")


@pytest.fixture
def users(muni, partner_org):
    """One user per role in the test municipality; the admin is unrestricted."""
    out = {}
    for role in Role:
        out[role.value] = create_staff_user(
            f"{role.value}@test.no", PASSWORD, role, name=role.value.title(),
            municipality_id=None if role == Role.ADMIN else muni.id,
            partner_id=partner_org.id if role == Role.PARTNER else None)
    db.session.flush()
    return out


@pytest.fixture(autouse=True)
def _zones_for_parts(request):
    """Offers, check-ins and loans happen in zones: these parts' tests all start with the three grunnkretser."""
    if request.node.path.parent.name in ZONED_PARTS:
        request.getfixturevalue("zone_set")


ZONED_PARTS = {"partners", "checkin", "utstyr", "api", "money"}


@pytest.fixture
def household(muni, zone_set, users):
    from .factories import household

    return household(muni, users)


@pytest.fixture
def child(household):
    return household.children[0]


@pytest.fixture
def card(child, users):
    from datetime import date

    from opplevelseskort.cards import services as cards

    return cards.issue_card(child, actor=users["caseworker"], valid_from=date(2026, 1, 1),
                            valid_until=date(2026, 12, 31))


def login(client, user):
    """Log a user in on the test client without going through the form."""
    from opplevelseskort.core.clock import utcnow

    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["signed_in_at"] = sess["seen_at"] = sess["auth_at"] = utcnow().timestamp()  # as a real sign-in stamps it
    return client


@pytest.fixture
def login_as(client, users):
    def _login(role: str):
        return login(client, users[role])

    return _login


def csrf_from(html: str, name: str = "csrf_token") -> str:
    m = re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"', html)
    if not m:
        m = re.search(rf'type="hidden" name="{re.escape(name)}" value="([^"]+)"', html)
    assert m, f"no {name} in page"
    return m.group(1)


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def tmpdir_session():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Norway's "now" and "today" (core.clock) held at a chosen moment; `frozen_clock.move(days=3)` moves it on.
    Everything that asks core.clock (due dates, overdue lists, reminders) sees the same frozen time."""
    from datetime import UTC, datetime, timedelta

    from opplevelseskort.core import types

    class Clock:
        now = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)

        def move(self, **delta):
            self.now += timedelta(**delta)

    clock = Clock()
    monkeypatch.setattr(types, "utcnow", lambda: clock.now)
    return clock
