"""Migrations build the whole schema from empty, match the models exactly, and downgrade."""

import contextlib

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from opplevelseskort.extensions import db

from ..conftest import IS_PG, _worker_db_url


def _fresh_url(tmp_path, worker_id):
    return _worker_db_url(f"{worker_id}_mig") if IS_PG else f"sqlite:///{tmp_path}/mig.sqlite"


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, db.metadata)


@contextlib.contextmanager
def _at_revision(make_app, tmp_path, worker_id, revision: str):
    """A fresh database migrated up to `revision`, with one municipality (id 1) in it; emptied afterwards."""
    app = make_app(SQLALCHEMY_DATABASE_URI=_fresh_url(tmp_path, worker_id))
    with app.app_context():
        db.engines[None] = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        upgrade(revision=revision)
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO municipality (id, number, name, created_at) "
                                 "VALUES (1, '3001', 'Testby', CURRENT_TIMESTAMP)"))
        try:
            yield
        finally:
            downgrade(revision="base")
            db.engines[None].dispose()


def test_upgrade_from_empty_matches_models_and_downgrades(make_app, tmp_path, worker_id, committing):
    app = make_app(SQLALCHEMY_DATABASE_URI=_fresh_url(tmp_path, worker_id))
    with app.app_context():
        db.engines[None] = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        upgrade(revision="heads")
        diff = _diff(db.engine)
        assert diff == [], diff
        downgrade(revision="base")
        names = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert names == set()
        db.engines[None].dispose()


def test_duplicate_item_types_are_merged_when_the_unique_rule_arrives(make_app, tmp_path, worker_id, committing):
    """0012: two 'Ski 130' rows made before the rule become one; the units of both stay, on the oldest."""
    with _at_revision(make_app, tmp_path, worker_id, "0011_enum_checks"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO location (id, municipality_id, name, address, contact, created_at) "
                                 "VALUES (1, 1, 'Bua', '', '', CURRENT_TIMESTAMP)"))
            for type_id in (1, 2):
                conn.execute(sa.text(
                    "INSERT INTO item_type (id, municipality_id, name, translations, category, size, description, "
                    "default_loan_days, guardian_consent_required, kit_items, has_photo) VALUES "
                    "(:i, 1, 'Ski', '{}', 'ski', '130', '', 7, false, '[]', false)"), {"i": type_id})
                conn.execute(sa.text(
                    "INSERT INTO unit (item_type_id, location_id, label_code, status, condition, notes, source, acquired_on) "
                    "VALUES (:i, 1, :code, 'available', 'good', '', 'donation', CURRENT_DATE)"),
                    {"i": type_id, "code": f"U{type_id}AAAAA"})
        upgrade(revision="0012_item_type_unique")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM item_type")).scalars().all() == [1]
            assert conn.execute(sa.text("SELECT item_type_id FROM unit ORDER BY id")).scalars().all() == [1, 1]


def test_partner_users_keep_their_organisation_when_the_tie_moves_to_partners(make_app, tmp_path, worker_id,
                                                                              committing):
    """0013: user_account.partner_id becomes a partner_member row; other users get none; downgrade brings it back."""
    with _at_revision(make_app, tmp_path, worker_id, "0012_item_type_unique"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO partner (id, municipality_id, name, kind, status, contact_name, "
                                 "contact_email, contact_phone, address, status_reason, created_at) VALUES "
                                 "(7, 1, 'IL', 'club', 'approved', '', '', '', '', '', CURRENT_TIMESTAMP)"))
            for uid, role, partner in ((1, "partner", 7), (2, "caseworker", None)):
                conn.execute(sa.text(
                    "INSERT INTO user_account (id, email, name, password_hash, role, active, municipality_id, "
                    "partner_id, created_at, session_version) VALUES "
                    "(:i, :e, '', 'x', :r, true, 1, :p, CURRENT_TIMESTAMP, 0)"),
                    {"i": uid, "e": f"u{uid}@x.no", "r": role, "p": partner})
        upgrade(revision="0013_partner_member")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT user_id, partner_id FROM partner_member")).all() == [(1, 7)]
            assert "partner_id" not in {c["name"] for c in sa.inspect(conn).get_columns("user_account")}
        downgrade(revision="0012_item_type_unique")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, partner_id FROM user_account ORDER BY id")).all() == [(1, 7), (2, None)]


def test_offer_hours_become_typed_and_free_text_is_kept_in_the_description(make_app, tmp_path, worker_id, committing):
    """0014: «tirsdag 17–19» becomes a weekly opening; text the parser cannot read moves to the description;
    downgrade writes the typed hours back as text."""
    with _at_revision(make_app, tmp_path, worker_id, "0013_partner_member"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO partner (id, municipality_id, name, kind, status, contact_name, "
                                 "contact_email, contact_phone, address, status_reason, created_at) VALUES "
                                 "(7, 1, 'IL', 'club', 'approved', '', '', '', '', '', CURRENT_TIMESTAMP)"))
            for oid, hours in ((1, "tirsdag 17–19"), (2, "etter avtale"), (3, "")):
                conn.execute(sa.text(
                    "INSERT INTO offer (id, partner_id, municipality_id, title, description, translations, category, "
                    "age_min, age_max, address, start_date, end_date, opening_hours, companions_allowed, price_nok, "
                    "use_limit_period, requires_booking, status, created_at) VALUES (:i, 7, 1, 'T', 'Om tilbudet', "
                    "'{}', 'sport', 6, 16, '', '2026-01-01', '2026-12-31', :h, 0, 0, 'period', false, 'draft', "
                    "CURRENT_TIMESTAMP)"), {"i": oid, "h": hours})
        upgrade(revision="0014_offer_opening_hours")
        from opplevelseskort.core.hours import OpeningHours

        with db.engine.connect() as conn:
            rows = {i: (h if not isinstance(h, str) else __import__("json").loads(h), d) for i, h, d in
                    conn.execute(sa.text("SELECT id, opening_hours, description FROM offer ORDER BY id"))}
        assert OpeningHours.from_json(rows[1][0]).as_one_text() == "tirsdag 17:00–19:00"
        assert rows[2][0] is None and rows[2][1] == "Om tilbudet\n\nÅpningstider: etter avtale"
        assert rows[3][0] is None and rows[3][1] == "Om tilbudet"
        downgrade(revision="0013_partner_member")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT opening_hours FROM offer ORDER BY id")).scalars().all() == [
                "tirsdag 17:00–19:00", "", ""]


def test_a_runs_parameters_become_its_functions_and_the_runners_keys_its_context(make_app, tmp_path, worker_id,
                                                                                committing):
    """0033: rows queued before it kept "_locale", "_back" ... among their parameters (the runner dropped them
    before the call); after it the parameters are the function's and the rest is the run's context; a downgrade
    puts them back."""
    import json

    def as_dict(value):
        return value if isinstance(value, dict) else json.loads(value)

    with _at_revision(make_app, tmp_path, worker_id, "0032_report_feature"):
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO job_run (id, kind, status, params, errors, result, created_at) VALUES "
                                 "(1, 'zone_import', 'queued', :p, '[]', '{}', CURRENT_TIMESTAMP)"),
                         {"p": json.dumps({"upload": "u", "_back": "zones.zone_list", "_locale": "nn"})})
        upgrade(revision="0033_job_run_context")
        with db.engine.connect() as conn:
            params, context = conn.execute(sa.text("SELECT params, context FROM job_run")).one()
        assert as_dict(params) == {"upload": "u"} and as_dict(context) == {"back": "zones.zone_list", "locale": "nn"}
        downgrade(revision="0032_report_feature")
        with db.engine.connect() as conn:
            params = conn.execute(sa.text("SELECT params FROM job_run")).scalar()
        assert as_dict(params) == {"upload": "u", "_back": "zones.zone_list", "_locale": "nn"}

