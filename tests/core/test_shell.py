"""The shell: security headers, error pages, locale choice, configuration, demo and CLI."""

import pytest

from opplevelseskort import create_app, demo
from opplevelseskort.accounts.models import User
from opplevelseskort.config import load_config
from opplevelseskort.core.models import Municipality
from opplevelseskort.extensions import db
from opplevelseskort.zones.models import Zone


def test_security_headers_on_pages(client):
    r = client.get("/logg-inn")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_hsts_behind_tls(client):
    r = client.get("/logg-inn", base_url="https://localhost")
    assert "max-age=31536000" in r.headers["Strict-Transport-Security"]


def test_session_cookie_is_httponly_and_secure_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("OPPLEVELSESKORT_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    cfg = load_config(str(tmp_path))
    assert cfg["SESSION_COOKIE_SECURE"] and cfg["SESSION_COOKIE_HTTPONLY"] and cfg["FORCE_HTTPS"]


def test_production_refuses_default_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("OPPLEVELSESKORT_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SKIP_LOGGING_CONFIG": True})


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = load_config(str(tmp_path))
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/opplevelseskort.sqlite"


def test_postgres_urls_use_psycopg3(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_friendly_404_page(client):
    r = client.get("/finnes-ikke")
    assert r.status_code == 404 and "Fant ikke siden" in r.text and 'class="skip-link"' in r.text


def test_friendly_403_page(client, login_as):
    login_as("partner")
    r = client.get("/admin/brukere")
    assert r.status_code == 403 and "Ingen tilgang" in r.text


def test_default_locale_is_bokmal(client):
    r = client.get("/logg-inn")
    assert '<html lang="nb" dir="ltr">' in r.text


def test_locale_from_browser(client):
    r = client.get("/logg-inn", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en"' in r.text
    assert "Log in" in r.text


def test_browser_no_means_bokmal(client):
    assert '<html lang="nb"' in client.get("/logg-inn", headers={"Accept-Language": "no"}).text


def test_switcher_choice_beats_browser_and_rtl_for_arabic(client):
    r = client.post("/sprak", data={"lang-locale": "ar", "next": "/logg-inn"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/logg-inn")
    page = client.get("/logg-inn", headers={"Accept-Language": "en"}).text
    assert '<html lang="ar" dir="rtl">' in page


def test_switcher_refuses_unknown_locale_and_external_next(client):
    r = client.post("/sprak", data={"lang-locale": "xx", "next": "https://evil.example"})
    assert r.headers["Location"].endswith("/")
    assert '<html lang="nb"' in client.get("/logg-inn").text


def test_logged_in_users_locale_is_remembered(client, login_as, users):
    login_as("caseworker")
    client.post("/sprak", data={"lang-locale": "nn", "next": "/oversikt"})
    assert db.session.get(User, users["caseworker"].id).locale == "nn"


def test_dates_formatted_by_babel_for_locale(app):
    from datetime import UTC, datetime

    from flask_babel import format_datetime

    with app.test_request_context(headers={"Accept-Language": "nb"}):
        text = format_datetime(datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "d. MMMM y HH:mm")
    assert text == "15. januar 2026 13:00"  # shown in Europe/Oslo


def test_demo_is_idempotent_and_creates_each_role(app):
    demo.load_demo(small=True)
    demo.load_demo(small=True)
    emails = set(db.session.scalars(db.select(User.email)))
    assert {"admin@demo.no", "saksbehandler@demo.no", "partner@demo.no", "frivillig@demo.no",
            "analytiker@demo.no"} <= emails
    assert db.session.scalar(db.select(db.func.count(Municipality.id))) == 1
    zones = list(db.session.scalars(db.select(Zone).filter_by(level="grunnkrets")))
    assert len(zones) == 8 and all(z.boundary and z.parent for z in zones)


def test_demo_refuses_database_with_real_data(app, users):
    from opplevelseskort.core.errors import DomainError

    with pytest.raises(DomainError) as exc:
        demo.load_demo(small=True)
    assert exc.value.code == "demo_refused"


def test_cli_users_create(app, muni):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", "cli@test.no", "--role", "analyst",
                                                "--municipality", "3001", "--password", "gront eple 47"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(User).filter_by(email="cli@test.no")).municipality_id == muni.id


def test_cli_zone_import_reports_errors_and_writes_nothing(app, tmp_path):
    bad = tmp_path / "z.geojson"
    bad.write_text('{"type": "FeatureCollection", "crs": {"type":"name","properties":{"name":"EPSG:2154"}}, "features": []}')
    result = app.test_cli_runner().invoke(args=["zones", "import", str(bad), "--municipality", "3001"])
    assert result.exit_code == 1
    assert "EPSG:2154" in result.output
    assert db.session.scalar(db.select(db.func.count(Zone.id))) == 0


def test_cli_zone_import_with_parents(app, data_dir):
    result = app.test_cli_runner().invoke(args=[
        "zones", "import", str(data_dir / "grunnkretser_25833.geojson"), "--municipality", "3401",
        "--municipality-name", "Kongsvinger", "--parent-prefix", "6"])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and "2 parents created" in result.output


def test_there_is_a_favicon(client):
    page = client.get("/tilgjengelighet")
    assert 'rel="icon"' in page.text
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r.headers["Location"].endswith("/static/favicon.svg")
    assert client.get("/static/favicon.svg").status_code == 200



def test_staff_pages_show_words_not_codes(client, users, muni, zone_set):
    from datetime import date

    from opplevelseskort.checkin import services as checkin
    from opplevelseskort.core.labels import label
    from opplevelseskort.partners import services as partners
    from utstyr.models import ItemType, Location
    from utstyr.services import add_units

    from ..conftest import login
    from ..factories import make_card, offer_values

    offer = partners.save_offer(users["partner"], offer_values(title="Klatrevegg"), {})
    checkin.record_checkin(make_card(muni, users, "Ada").short_code, offer, actor=users["partner"])
    loc = Location(municipality_id=muni.id, name="Sentralen")
    loc.volunteers.append(users["volunteer"])
    skis = ItemType(municipality_id=muni.id, name="Ski", category="ski", size="", default_loan_days=7)
    from opplevelseskort.extensions import db

    db.session.add_all([loc, skis])
    db.session.flush()
    add_units(skis, loc, 1)
    db.session.flush()
    login(client, users["partner"])
    visits = client.get(f"/besok?month={date.today():%Y-%m}").text
    assert "Klatrevegg" in visits and "Skrevet inn" in visits and ">typed<" not in visits
    login(client, users["volunteer"])
    units = client.get("/utstyr/enheter").text
    assert "Ledig" in units and ">available<" not in units
    login(client, users["admin"])
    zones_page = client.get("/admin/soner").text
    assert "Grunnkrets" in zones_page and ">grunnkrets<" not in zones_page
    assert label("gender", "girl") == "Jente" and label("unit_status", "nope") == "nope"


def test_jsonstat_measure_labels_are_words(app, muni, zone_set):
    from opplevelseskort.reports import formats, periods
    from opplevelseskort.reports import published as reports

    rep = reports.uptake_report(muni, periods.parse_period("2026"), "grunnkrets")
    doc = formats.jsonstat(rep)
    assert doc["dimension"]["measure"]["category"]["label"]["checkins"] == "Besøk"
    assert "checkins" in doc["dimension"]["measure"]["category"]["index"]  # ids stay codes


def test_the_demo_years_figures_are_stored_when_the_demo_is_loaded(app):
    """The analysts' first page in the demo shows figures, not "being made" (the schedule's work done at load)."""
    from opplevelseskort.core.clock import today
    from opplevelseskort.reports.models import ReportPublication

    demo.load_demo(small=True)
    periods = set(db.session.scalars(db.select(ReportPublication.period)))
    year = str(today().year)
    assert {year, f"{year}-Q1", f"{year}-Q4"} <= periods
