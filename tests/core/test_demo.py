"""The full demo (`opplevelseskort demo`) is a municipality that shows every role's work, built on a fresh database
as the command builds it (no request, no settings changed): the zone report publishes at grunnkrets and delområde
for both years, the need page and the index rank zones by living conditions (not by size), the GeoPackage, the
council PDF and the OGC API work, and the family, partner and volunteer pages have history. Issue 35."""

import subprocess

import pyogrio
import pytest
import sqlalchemy as sa

from opplevelseskort import demo
from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.accounts.models import User
from opplevelseskort.cards.models import Card, Child
from opplevelseskort.checkin.models import CheckIn
from opplevelseskort.core.clock import today
from opplevelseskort.core.models import Municipality
from opplevelseskort.extensions import db
from opplevelseskort.reports import levekar, need, periods, published
from opplevelseskort.reports import services as reports
from opplevelseskort.zones.models import Zone
from utstyr.models import LoanLine

from ..conftest import IS_PG, TEST_CONFIG, _worker_db_url


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, worker_id):
    from flask_migrate import upgrade

    from opplevelseskort import create_app

    url = _worker_db_url(f"{worker_id}_demo") if IS_PG else \
        "sqlite:///" + str(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path_factory.mktemp("di")),
              "REPORT_ZONE_MIN_CARDS": 10}  # the production density rule: nothing made easier for the demo
    config.pop("SERVER_NAME")
    config.pop("PUBLIC_BASE_URL")
    app = create_app(config)
    with app.app_context():
        upgrade()
        demo.load_demo()
        db.session.commit()
    return app


@pytest.fixture
def ctx(demo_app):
    with demo_app.app_context():
        yield db.session.scalar(sa.select(Municipality).filter_by(number=demo.DEMO_NUMBER))
        db.session.rollback()


def _login(app, email):
    c = app.test_client()
    assert c.post("/logg-inn", data={"email": email, "password": demo.DEMO_PASSWORD}).status_code == 302
    return c


def test_the_demo_is_shaped_like_a_municipality(ctx):
    zones = list(db.session.scalars(sa.select(Zone).filter_by(municipality_id=ctx.id)))
    kretser = [z for z in zones if z.level == "grunnkrets"]
    assert len([z for z in zones if z.level == "delomrade"]) == 8
    assert 30 <= len([z for z in kretser if z.boundary]) <= 60 and all(z.parent for z in kretser if z.boundary)
    unknown = [z for z in kretser if z.code == demo.UNKNOWN_CODE]
    assert unknown and unknown[0].parent is None and unknown[0].boundary is None
    children = db.session.scalar(sa.select(sa.func.count(Child.id)))
    assert 1500 <= children <= 3000
    per_zone = dict(db.session.execute(sa.select(Child.zone_id, sa.func.count(Child.id)).group_by(Child.zone_id)).all())
    sizes = sorted(per_zone.values())
    assert sizes[0] <= 3 and sizes[-1] >= 3 * sizes[len(sizes) // 2] // 2  # some zones small, some large
    assert db.session.scalar(sa.select(sa.func.count(Card.id))) == children
    # two years of check-ins, the winter holiday busier than an ordinary week
    last_year = today().year - 1
    visits = [at.date() for at in db.session.scalars(sa.select(CheckIn.at))]
    assert {d.year for d in visits} == {last_year, today().year}
    past = [d for d in visits if d.year == last_year]
    holiday = sum(1 for d in past if d.isocalendar().week == 9)
    ordinary = sum(1 for d in past if d.isocalendar().week == 11)
    assert holiday > 1.5 * ordinary, (holiday, ordinary)


def test_the_zone_report_publishes_both_levels_for_both_years(ctx):
    for year in (today().year - 1, today().year):
        period = periods.parse_period(str(year))
        assert published.published_levels(ctx, period) == ["grunnkrets", "delomrade"], year
        report = published.uptake_report(ctx, period, "grunnkrets")
        rows = [c for z, c in report.rows() if z is not None and reports.shown(c["children_with_card"]) != 0]
        both = [c for c in rows if reports.shown(c["children_with_card"]) and reports.shown(c["active_children"])]
        assert len(both) >= 0.6 * len(rows), (year, len(both), len(rows))


def test_the_need_and_the_index_rank_zones_by_living_conditions_not_size(ctx):
    year = today().year
    table = need.need_table(ctx, year, "grunnkrets", reports.LOW_INCOME_KEY)
    assert len(table.rows) >= 30
    method = levekar.current_method(ctx)
    keys = {e["key"] for e in method.indicators}
    assert reports.ELIGIBLE_KEY not in keys and "lav_utdanning" not in keys and len(keys) >= 5
    index = levekar.compute(ctx, year)
    ranked = [r for r in index.rows if r.index is not None]
    assert len(ranked) >= 30 and demo.UNKNOWN_CODE not in {r.zone.code for r in ranked}


def test_the_analyst_gets_the_geopackage_the_council_pdf_and_the_ogc_api(demo_app, ctx, tmp_path):
    year = today().year
    analyst = _login(demo_app, "analytiker@demo.no")
    gpkg = analyst.get(f"/rapporter/eksport?period={year}&level=grunnkrets&format=gpkg")
    assert gpkg.status_code == 200
    path = tmp_path / "demo.gpkg"
    path.write_bytes(gpkg.data)
    layer = pyogrio.list_layers(path)[0][0]
    info = pyogrio.read_info(path, layer=layer)
    assert info["crs"] == "EPSG:25833"
    _meta, _fids, features, _fields = pyogrio.raw.read(path, layer=layer)
    kretser = list(db.session.scalars(sa.select(Zone).filter_by(municipality_id=ctx.id, level="grunnkrets")))
    assert len(features) == len(kretser)  # one feature per zone; the "uoppgitt" one without a geometry
    assert sum(g is not None for g in features) == sum(1 for z in kretser if z.boundary)
    pdf = analyst.get(f"/rapporter/arsrapport.pdf?year={year}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    (tmp_path / "r.pdf").write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    named = [name for _d, kretser in demo.DISTRICTS for name in kretser if name in text]
    assert len(named) >= 5, text[:500]
    assert "0101 Torget" in text and "under 10 %" in text  # the map's key (number and name) and its legend
    user = db.session.scalar(sa.select(User).filter_by(email="analytiker@demo.no"))
    _token, raw = api_tokens.create_token(user, "ogc", scopes=["reports"])
    db.session.commit()
    auth = {"Authorization": f"Bearer {raw}"}
    collections = demo_app.test_client().get(f"/api/v1/ogc/{demo.DEMO_NUMBER}/collections", headers=auth)
    assert collections.status_code == 200
    ids = [c["id"] for c in collections.get_json()["collections"]]
    assert any(str(year) in i and "grunnkrets" in i for i in ids) and any(str(year - 1) in i for i in ids)


def test_every_role_has_history_to_look_at(demo_app, ctx):
    caseworker = _login(demo_app, "saksbehandler@demo.no")
    assert caseworker.get("/barn").status_code == 200
    partner = _login(demo_app, "partner@demo.no")
    assert partner.get("/mine-tilbud").status_code == 200
    from opplevelseskort.partners.models import PartnerMember

    club = db.session.scalar(sa.select(PartnerMember.partner_id).join(User, User.id == PartnerMember.user_id)
                             .where(User.email == "partner@demo.no"))
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id)).where(CheckIn.partner_id == club)) >= 100
    volunteer = _login(demo_app, "frivillig@demo.no")
    assert volunteer.get("/utstyr/").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(LoanLine.id)).where(LoanLine.returned_at.is_not(None))) >= 100
    assert db.session.scalar(sa.select(sa.func.count(LoanLine.id)).where(LoanLine.returned_at.is_(None))) >= 1
    named = db.session.scalar(sa.select(Card).join(Child).where(Child.given_name == "Ayaan"))
    family = demo_app.test_client().get(f"/kort/{named.family_token}")
    assert family.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id)).where(CheckIn.card_id == named.id)) >= 10
    assert _login(demo_app, "analytiker@demo.no").get("/rapporter/behov").status_code == 200


def test_the_demo_is_the_same_every_time(ctx):
    """Seeded: the same day gives the same municipality (the households' zones and the check-ins' days)."""
    from opplevelseskort.cards.demo import _households

    zones = {z.code: z for z in db.session.scalars(sa.select(Zone).filter_by(municipality_id=ctx.id,
                                                                             level="grunnkrets"))}
    first = [(g.name, [(c.given_name, c.zone) for c in kids]) for g, kids in _households(zones, today())]
    again = [(g.name, [(c.given_name, c.zone) for c in kids]) for g, kids in _households(zones, today())]
    assert first == again
    assert demo.demo_geojson() == demo.demo_geojson()


def test_the_finance_office_gets_an_ehf_invoice_for_the_demos_approved_month(demo_app, ctx):
    from lxml import etree

    from opplevelseskort.money.models import Settlement, SettlementStatus

    approved = db.session.scalars(sa.select(Settlement).where(Settlement.status == SettlementStatus.APPROVED,
                                                              Settlement.total_ore > 0)).first()
    assert approved is not None
    finance = _login(demo_app, "okonomi@demo.no")
    got = finance.get(f"/okonomi/oppgjor/{approved.id}.xml")
    assert got.status_code == 200
    assert etree.fromstring(got.data).findtext("{*}InvoiceTypeCode") == "389"


def test_the_demo_has_a_wish_round_with_results_a_call_and_an_offer_born_from_it(demo_app, ctx):
    from opplevelseskort.wishes import calls, results
    from opplevelseskort.wishes.models import WishRound

    wish_round = db.session.scalar(sa.select(WishRound))
    shown = results.results(wish_round)
    assert shown["answers"] >= 40 and any(u["answers"] for u in shown["units"])
    assert len(calls.born_offers(ctx.id, round_id=wish_round.id)) == 1
    assert _login(demo_app, "admin@demo.no").get(f"/admin/onsker/{wish_round.id}").status_code == 200
