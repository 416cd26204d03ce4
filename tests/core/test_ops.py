"""Operations: health and readiness probes, request ids, JSON logs without personal data, Prometheus metrics."""

import io
import json
import logging

import pytest
import sqlalchemy as sa

from opplevelseskort.core.ops import JsonFormatter, RequestIdFilter
from opplevelseskort.extensions import db


def test_healthz_answers_without_the_database(make_app):
    down = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    app = make_app(SQLALCHEMY_DATABASE_URI=down)
    with app.app_context():
        db.engines[None] = sa.create_engine(down)
    c = app.test_client()
    assert c.get("/healthz").json == {"status": "ok"}
    r = c.get("/readyz")
    assert r.status_code == 503 and r.json["checks"]["database"].startswith("unreachable")


def test_readyz_checks_database_redis_and_migrations(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15")
    r = app.test_client().get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}
    bad = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    r = bad.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["checks"]["redis"].startswith("unreachable")


def test_readyz_refuses_a_schema_behind_the_newest_migration(make_app, tmp_path, committing):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path}/old.sqlite"
    app = make_app(SQLALCHEMY_DATABASE_URI=url, TESTING=False)
    with app.app_context():
        db.engines[None] = sa.create_engine(url)
        upgrade(revision="0009_item_photo")
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and "head is" in r.json["checks"]["migrations"]
    with app.app_context():
        upgrade(revision="heads")
    assert app.test_client().get("/readyz").status_code == 200


def test_probes_are_not_redirected_to_https(make_app):
    app = make_app(FORCE_HTTPS=True)
    c = app.test_client()
    try:
        assert c.get("/healthz").status_code == 200
        assert c.get("/tilbud").status_code == 302  # pages still go to HTTPS
    finally:
        make_app()  # Talisman is one object for every app: give the other tests back their setting


def test_every_answer_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234"}).headers["X-Request-ID"] == "lb-1234"
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id; <script>" + "x" * 100}).headers["X-Request-ID"]
    assert len(forged) == 32 and "<" not in forged


def test_json_logs_name_the_endpoint_never_the_secret_path(client, card):  # noqa: F811
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("opplevelseskort.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        r = client.get(f"/kort/{card.family_token}", headers={"X-Request-ID": "req-42"})
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 200, r.headers.get("Location")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["endpoint"] == "portal.family_card" and line["status"] == 200 and line["request_id"] == "req-42"
    assert card.family_token not in stream.getvalue() and "Emma" not in stream.getvalue()


def test_metrics_report_latency_checkins_loans_and_outbox(make_app, users, muni, zone_set):
    from opplevelseskort.checkin import services as checkin
    from opplevelseskort.core import outbox
    from opplevelseskort.partners import services as partners

    from ..factories import make_card, offer_values

    offer = partners.save_offer(users["partner"], offer_values(), {})
    checkin.record_checkin(make_card(muni, users, "Mia").short_code, offer, actor=users["partner"])
    outbox.enqueue("sms", "90000000", "Hei", "Melding")
    db.session.flush()
    app = make_app(METRICS_TOKEN="skrape")
    c = app.test_client()
    c.get("/tilbud")
    assert c.get("/metrics").status_code == 401
    body = c.get("/metrics", headers={"Authorization": "Bearer skrape"}).get_data(as_text=True)
    # the counters are the highest ids (checkin.metric_counts): on PostgreSQL a sequence keeps what earlier,
    # rolled-back tests of this worker drew, so the check-in's id, not 1, is what the counter says
    from opplevelseskort.checkin.models import CheckIn

    highest = db.session.scalar(db.select(db.func.max(CheckIn.id)))
    assert f"opplevelseskort_checkins_total {float(highest)}" in body, body[-600:]
    assert "opplevelseskort_loans_total 0.0" in body
    assert 'opplevelseskort_outbox_messages{status="pending"} ' in body
    assert 'opplevelseskort_request_seconds_bucket{endpoint="partners.catalogue"' in body


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_need_no_login(client, path):
    assert client.get(path).status_code == 200
