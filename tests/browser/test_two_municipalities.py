"""Two municipalities in one deployment, in a real browser: each one's staff, partners, analysts and families see
their own and nothing of the other."""

from datetime import date

import pytest

from opplevelseskort import create_app
from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.core import municipalities
from opplevelseskort.demo import load_demo
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.partners.models import Partner, PartnerStatus
from opplevelseskort.partners.services import create_staff_user
from opplevelseskort.zones import imports as zones

from ..conftest import IS_PG, TEST_CONFIG, _worker_db_url
from ..factories import child_input, guardian_input
from .conftest import LiveServer, login

pytestmark = pytest.mark.browser
PASSWORD = "nabobygd er fin"


@pytest.fixture(scope="module")
def two(tmp_path_factory, worker_id):
    url = _worker_db_url(f"{worker_id}_two") if IS_PG else \
        "sqlite:///" + str(tmp_path_factory.mktemp("two") / "two.sqlite")
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "SERVER_NAME": None,
              "INSTANCE_PATH": str(tmp_path_factory.mktemp("two-instance"))}
    config.pop("PUBLIC_BASE_URL", None)
    app = create_app(config)
    with app.app_context(), app.test_request_context():
        db.create_all()
        load_demo(small=True)
        b = municipalities.get_or_create_municipality("3002", "Nabobygd")
        zones.import_zones_csv(b, "code;name;level;parent\n30020101;Fjellgrenda;grunnkrets;\n")
        club = Partner(municipality_id=b.id, name="Nabobygd IL", org_number="910000001",
                       status=PartnerStatus.APPROVED, contact_email="il@nabobygd.no")
        db.session.add(club)
        db.session.flush()
        people = {role: create_staff_user(f"{role}@nabobygd.no", PASSWORD, role, municipality_id=b.id,
                                          partner_id=club.id if role == "partner" else None)
                  for role in ("caseworker", "partner", "analyst")}
        h = households.register_household(b, [guardian_input(phone="41000000")],
                                     [child_input(given_name="Fjellbarn", zone="30020101")],
                                     actor=people["caseworker"])
        cards.issue_card(h.children[0], actor=people["caseworker"], valid_from=date(date.today().year, 1, 1),
                         valid_until=date(date.today().year, 12, 31))
        partners.save_offer(people["partner"], {
            "title": "Fjelltur", "description": "", "category": "outdoor", "age_min": 6, "age_max": 16,
            "address": "", "start_date": date(2026, 1, 1), "end_date": date(2030, 12, 31), "opening_hours": "",
            "companions_allowed": 1, "price_nok": 0, "use_limit": None, "use_limit_period": "period",
            "requires_booking": False, "status": "published", "lat": None, "lon": None}, {})
        from opplevelseskort.cards.models import Card, Child

        demo_code = db.session.scalar(db.select(Card.short_code).join(Child).where(Child.municipality_id != b.id)
                                      .limit(1))
        demo_child = db.session.scalar(db.select(Child.given_name).where(Child.municipality_id != b.id).limit(1))
        db.session.commit()
    server = LiveServer(app).start()
    yield {"url": server.url, "demo_code": demo_code, "demo_child": demo_child}
    server.stop()


def test_each_municipality_sees_only_its_own(page, two):
    base = two["url"]
    login(page, base, "caseworker@nabobygd.no", PASSWORD)
    page.goto(base + "/barn")
    assert "Fjellbarn" in page.content() and two["demo_child"] not in page.content()
    page.context.clear_cookies()

    login(page, base, "partner@nabobygd.no", PASSWORD)
    page.goto(base + "/skann")
    page.fill("#code", two["demo_code"])
    page.get_by_role("button", name="Sjekk inn").click()
    assert "Ukjent kort" in page.content()
    page.goto(base + "/tilbud")
    assert "Fjelltur" in page.content() and "Demo" not in page.locator("main").inner_text()
    page.context.clear_cookies()

    login(page, base, "analyst@nabobygd.no", PASSWORD)
    page.goto(base + f"/rapporter/?period={date.today().year}")
    assert "Fjellgrenda" in page.content()
    export = page.request.get(base + f"/rapporter/eksport?period={date.today().year}&format=csv&level=grunnkrets")
    body = export.text()
    assert export.status == 200 and "30020101" in body and "9901" not in body
