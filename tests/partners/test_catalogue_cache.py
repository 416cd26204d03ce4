"""The public catalogue's body is rendered once per question and shared (issue 24, the busiest hour), and never
served older than the data: every service that changes an offer, a partner or a zone moves the municipality's
catalogue_version on in its own transaction (issue 38: in the services, not a flush listener)."""

from unittest import mock

import pytest

from opplevelseskort.core.models import Municipality
from opplevelseskort.extensions import db
from opplevelseskort.partners import catalogue_cache, services
from opplevelseskort.zones import imports as zone_imports
from opplevelseskort.zones import services as zones

from ..factories import offer_values


@pytest.fixture(autouse=True)
def _empty_cache():
    catalogue_cache.clear()
    yield
    catalogue_cache.clear()


def _renders(client, path="/tilbud"):
    real = services.catalogue
    with mock.patch.object(services, "catalogue", side_effect=real) as spy:
        r = client.get(path)
    assert r.status_code == 200
    return r, spy.call_count


def test_the_same_question_is_rendered_once_for_every_family(client, users, offer, muni):
    first, n1 = _renders(client, "/tilbud?age=8")
    again, n2 = _renders(client, "/tilbud?age=8")
    assert (n1, n2) == (1, 0) and "Fotball" in again.text and first.text.count("Fotball") == again.text.count("Fotball")
    _other, n3 = _renders(client, "/tilbud?age=9")  # another question: rendered
    assert n3 == 1
    r = client.get("/tilbud?age=8", headers={"Accept-Language": "en"})
    assert "Football" in r.text  # each language its own entry


def test_each_page_keeps_its_own_csrf_token_around_the_shared_body(make_app, users, offer):
    app = make_app(WTF_CSRF_ENABLED=True)
    a, b = app.test_client(), app.test_client()
    ta = a.get("/tilbud").text
    tb = b.get("/tilbud").text
    import re

    tokens = [re.search(r'name="lang-csrf_token" value="([^"]+)"', t).group(1) for t in (ta, tb)]
    assert tokens[0] != tokens[1]  # the language form's token is the visitor's own, not the cached one


@pytest.mark.parametrize("change", ["new_offer", "edit_offer", "unpublish", "suspend_partner", "rename_zone"])
def test_a_change_to_what_the_catalogue_shows_is_seen_at_once(client, users, offer, partner_org, zone_set, muni,
                                                              change):
    before, _n = _renders(client)
    assert "Fotball" in before.text
    version = muni.catalogue_version
    if change == "new_offer":
        services.save_offer(users["partner"], offer_values(title="Klatring"), {})
        expect_in, expect_out = "Klatring", None
    elif change == "edit_offer":
        services.save_offer(users["partner"], offer_values(title="Fotballskole"), {}, offer=offer)
        expect_in, expect_out = "Fotballskole", None
    elif change == "unpublish":
        services.save_offer(users["partner"], offer_values(status="paused"), {}, offer=offer)
        expect_in, expect_out = None, "Fotball"
    elif change == "suspend_partner":
        services.suspend_partner(partner_org, "", actor=users["admin"])
        expect_in, expect_out = None, "Fotball"
    else:
        top = next(z for z in zone_set.values() if z.parent_id is None)  # the filter lists the top-level zones
        zones.update_zone(top, name="Nye Elvekanten", level=top.level, parent_code=None, actor=users["admin"])
        expect_in, expect_out = None, None
    db.session.flush()
    db.session.refresh(muni)
    assert muni.catalogue_version > version
    after, n = _renders(client)
    assert n == 1  # rendered anew
    if expect_in:
        assert expect_in in after.text
    if expect_out:
        assert expect_out not in after.text
    if change == "rename_zone":
        assert "Nye Elvekanten" in after.text


def test_staff_get_the_page_rendered_for_them(client, login_as, users, offer):
    login_as("caseworker")
    _r, n1 = _renders(client)
    _r, n2 = _renders(client)
    assert (n1, n2) == (1, 1)


def _version(muni) -> int:
    return db.session.scalar(db.select(Municipality.catalogue_version).filter_by(id=muni.id))


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


ZONE_CSV = "code;name;level;parent\n30019901;Nytt felt;grunnkrets;\n"
ZONE_GEOJSON = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"grunnkretsnummer": '
                '"30019902", "grunnkretsnavn": "Nordre"}, "geometry": {"type": "Polygon", "coordinates": '
                '[[[10.02, 59.9], [10.03, 59.9], [10.03, 59.91], [10.02, 59.91], [10.02, 59.9]]]}}]}')


SERVICES = {
    "register_partner": lambda w: services.register_partner(w["muni"], services.PartnerInput(
        name="Ny klubb", org_number="910000012", kind="club", contact_name="Kari", contact_email="kari@ny.no")),
    "approve_partner": lambda w: services.approve_partner(w["pending"], actor=w["users"]["admin"]),
    "reject_partner": lambda w: services.reject_partner(w["pending"], "Ikke i kommunen", actor=w["users"]["admin"]),
    "suspend_partner": lambda w: services.suspend_partner(w["partner_org"], "", actor=w["users"]["admin"]),
    "save_offer (new)": lambda w: services.save_offer(w["users"]["partner"], offer_values(title="Klatring"), {}),
    "save_offer (edit)": lambda w: services.save_offer(w["users"]["partner"], offer_values(title="Ny tittel"), {},
                                                       offer=w["offer"]),
    "set_offer_image": lambda w: services.set_offer_image(w["offer"], _jpeg(), actor=w["users"]["partner"]),
    "update_zone": lambda w: zones.update_zone(w["zone"], name="Nytt navn", level=w["zone"].level, parent_code=None,
                                               actor=w["users"]["admin"]),
    "import_zones_csv": lambda w: zone_imports.import_zones_csv(w["muni"], ZONE_CSV),
    "import_zones_geojson": lambda w: zone_imports.import_zones_geojson(w["muni"], ZONE_GEOJSON, code_property="grunnkretsnummer",
                                                                 name_property="grunnkretsnavn", level="grunnkrets"),
    "import_zone_mapping": lambda w: zone_imports.import_zone_mapping(w["muni"], "grunnkrets;sone\n30010101;300102\n"),
    "add_unknown_zone": lambda w: zones.add_unknown_zone(w["muni"].id, "30019999", "Uoppgitt grunnkrets"),
}


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_that_changes_the_catalogue_moves_its_version_in_its_own_transaction(name, app, users, muni,
                                                                                        partner_org, offer, zone_set):
    """Each service moves the version on, inside the caller's transaction: rolled back with it, nothing moves."""
    pending = services.register_partner(muni, services.PartnerInput(
        name="Venter IL", org_number="910000004", kind="club", contact_name="Ola", contact_email="ola@venter.no"))
    zone = next(z for z in zone_set.values() if z.level == "grunnkrets")
    world = {"muni": muni, "users": users, "partner_org": partner_org, "offer": offer, "pending": pending,
             "zone": zone}
    db.session.commit()
    before = _version(muni)
    with db.session.begin_nested() as inner:
        SERVICES[name](world)
        assert _version(muni) == before + 1
        inner.rollback()
    assert _version(muni) == before


def test_no_flush_listener_moves_the_version_behind_the_services_backs(app, muni, partner_org, offer):
    """A write that does not go through a service moves nothing (and there is no listener to do it)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    assert not any(event.contains(Session, e, fn) for e in ("before_flush", "after_flush")
                   for fn in (getattr(catalogue_cache, "_changed_municipalities", None),
                              getattr(catalogue_cache, "_move_versions_on", None)) if fn)
    before = _version(muni)
    offer.title = "Direkte"
    db.session.flush()
    assert _version(muni) == before

