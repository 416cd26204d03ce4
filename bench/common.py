"""Shared bench helpers: a fresh PostgreSQL database and a data generator that writes in bulk SQL."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from opplevelseskort.partners.services import create_staff_user

BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def fresh_database(name: str) -> str:
    url = sa.engine.make_url(BASE_URL)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def make_app(url: str, **overrides):
    from opplevelseskort import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SKIP_LOGGING_CONFIG": True, "RATELIMIT_ENABLED": False,
                       "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                       "INSTANCE_PATH": "/tmp/opplevelseskort-bench", **overrides})


# The rate limiter as production runs it (Redis), with a card look-up budget the benchmark's clients cannot spend.
LIMITER_ON = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL",
                                                                                  "redis://127.0.0.1:6379/5"),
              "CARD_LOOKUP_RATE_LIMIT": "10000000 per minute"}  # no default limit: production sets none


def generate(db, cards: int, offers: int, checkins: int = 0, zones_per_level: int = 40) -> dict:
    """Zones, one partner, `offers` offers, `cards` children with cards, `checkins` check-ins, in bulk SQL."""
    from opplevelseskort.accounts import tokens
    from opplevelseskort.cards.codes import new_short_code, new_token
    from opplevelseskort.core import municipalities
    from opplevelseskort.core.models import Role
    from opplevelseskort.partners.models import Partner

    db.create_all()
    muni = municipalities.get_or_create_municipality("0301", "Bench")
    conn = db.session.connection()
    conn.execute(sa.text("INSERT INTO zone (municipality_id, code, name, level) SELECT :m, 'D' || g, 'Delomrade ' || g, "
                         "'delomrade' FROM generate_series(1, :n) g"), {"m": muni.id, "n": zones_per_level})
    conn.execute(sa.text("INSERT INTO zone (municipality_id, code, name, level, parent_id) "
                         "SELECT :m, 'G' || g, 'Grunnkrets ' || g, 'grunnkrets', "
                         "(SELECT id FROM zone WHERE code = 'D' || (1 + g % :n)) FROM generate_series(1, :k) g"),
                 {"m": muni.id, "n": zones_per_level, "k": zones_per_level * 10})
    partner = Partner(municipality_id=muni.id, name="Bench IL", org_number="974760673", status="approved")
    db.session.add(partner)
    db.session.flush()
    user = create_staff_user("bench@partner.no", "benk og bord 42", Role.PARTNER, municipality_id=muni.id,
                             partner_id=partner.id)
    token = tokens.create_token(user, "bench")[1]
    year = date.today().year
    conn.execute(sa.text(
        "INSERT INTO offer (partner_id, municipality_id, title, description, translations, category, age_min, age_max,"
        " address, start_date, end_date, opening_hours, companions_allowed, price_nok, use_limit_period,"
        " requires_booking, status, created_at) SELECT :p, :m, 'Offer ' || g, '', '{}', 'sport', 0, 25, '',"
        " :s, :e, NULL, 1, 100, 'period', false, 'published', now() FROM generate_series(1, :n) g"),
        {"p": partner.id, "m": muni.id, "s": date(year, 1, 1), "e": date(year, 12, 31), "n": offers})
    conn.execute(sa.text(
        "INSERT INTO household (municipality_id, created_at) SELECT :m, now() FROM generate_series(1, :n)"),
        {"m": muni.id, "n": cards})
    conn.execute(sa.text(
        "INSERT INTO child (household_id, municipality_id, given_name, family_name, birth_year, birth_month, gender,"
        " zone_id, channel, eligible_from, eligible_until, created_at) SELECT h.id, :m, 'Barn', 'B', 2010 + h.id % 8,"
        " 1 + h.id % 12, CASE WHEN h.id % 2 = 0 THEN 'girl' ELSE 'boy' END,"
        " (SELECT min(id) FROM zone WHERE level = 'grunnkrets') + h.id % :k, 'nav', :s, :e, now() FROM household h"),
        {"m": muni.id, "k": zones_per_level * 10, "s": date(year, 1, 1), "e": date(year, 12, 31)})
    codes = [(new_token(), new_short_code(), new_token()) for _ in range(cards)]
    child_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM child ORDER BY id"))]
    conn.execute(sa.text(
        "INSERT INTO card (child_id, municipality_id, qr_token, short_code, family_token, valid_from, valid_until,"
        " companions, issued_at) VALUES (:c, :m, :q, :s, :f, :vf, :vu, 1, now())"),
        [{"c": cid, "m": muni.id, "q": q, "s": s, "f": f, "vf": date(year, 1, 1), "vu": date(year, 12, 31)}
         for cid, (q, s, f) in zip(child_ids, codes, strict=True)])
    if checkins:
        start = datetime(year, 1, 1, tzinfo=UTC)
        conn.execute(sa.text(
            "INSERT INTO checkin (card_id, child_id, offer_id, partner_id, municipality_id, at, companions, source,"
            " zone_id, age, birth_year, gender, value_nok) SELECT c.id, c.child_id,"
            " (SELECT min(id) FROM offer) + g % :o, :p, :m, :start + (g % 300) * interval '1 day', 0, 'api',"
            " ch.zone_id, 10, ch.birth_year, ch.gender, 100 FROM generate_series(1, :n) g"
            " JOIN card c ON c.id = (SELECT min(id) FROM card) + g % :cards JOIN child ch ON ch.id = c.child_id"),
            {"o": offers, "p": partner.id, "m": muni.id, "start": start, "n": checkins, "cards": cards})
    db.session.commit()
    conn = db.session.connection()
    conn.execute(sa.text("ANALYZE"))
    db.session.commit()
    return {"token": token, "short_codes": [c[1] for c in codes], "partner_id": partner.id,
            "offer_ids": [r[0] for r in db.session.execute(sa.text("SELECT id FROM offer ORDER BY id"))],
            "municipality": muni.number, "year": year, "secret": secrets.token_hex(4),
            "when": datetime.now(UTC) - timedelta(seconds=1)}
