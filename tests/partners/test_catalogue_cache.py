"""The public catalogue's body is rendered once per question and shared (issue 24, the busiest hour), and never
served older than the data: every change to an offer, a partner or a zone moves the municipality's
catalogue_version on in the same transaction."""

from unittest import mock

import pytest

from opplevelseskort.extensions import db
from opplevelseskort.partners import catalogue_cache, services
from opplevelseskort.partners.models import PartnerStatus

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
        offer.title = "Fotballskole"
        expect_in, expect_out = "Fotballskole", None
    elif change == "unpublish":
        offer.status = "paused"
        expect_in, expect_out = None, "Fotball"
    elif change == "suspend_partner":
        partner_org.status = PartnerStatus.SUSPENDED
        expect_in, expect_out = None, "Fotball"
    else:
        top = next(z for z in zone_set.values() if z.parent_id is None)  # the filter lists the top-level zones
        top.name = "Nye Elvekanten"
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
