"""Tenant isolation: every route in url_map, for every role of a second municipality (its admin included) and
for another partner of the same municipality, against objects of the first municipality.

Each request gets the ids, family token, card code, unit label and borrower of municipality A filled in (in
the URL and as form/JSON fields), so it is a real attempt. Afterwards: no 500, no private marker of A in the
answer, no row of the database changed and no audit row written about A.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.partners.models import Partner

from ..conftest import login
from .conftest import MARKERS, OWN_WRITES, SAME_MUNICIPALITY_OK, all_urls, snapshot


def test_nothing_of_one_municipality_reaches_another(app, client, world):
    a_id = world["muni"].id
    leaks = []
    tokens = {name: api_tokens.create_token(user, "t")[1] for name, user in world["outsiders"].items()}
    db.session.flush()
    before = snapshot()
    audit_before = db.session.scalar(sa.select(sa.func.max(AuditLog.id)))
    for name, user in world["outsiders"].items():
        for endpoint, method, url in all_urls(app, world):
            c = app.test_client()
            if url.startswith("/api/"):
                kw = {"headers": {"Authorization": f"Bearer {tokens[name]}"}}
                if method == "POST":
                    kw["json"] = {**world["form"], "unit_codes": [world["form"]["unit_codes"]],
                                  "offer_id": world["ids"]["offer_id"]}
            else:
                login(c, user)
                kw = {"data": world["form"]} if method == "POST" else {}
            r = c.open(url, method=method, **kw)
            body = r.get_data().decode("utf-8", "replace")
            if r.status_code >= 500:
                leaks.append((name, method, url, r.status_code))
            found = [m for m in MARKERS if re.search(rf"(?<![\d.]){re.escape(m)}(?!\d)", body)]  # not inside a number
            if found and (name, endpoint) not in SAME_MUNICIPALITY_OK:
                leaks.append((name, method, url, "shows", found))
            db.session.expire_all()
            after = snapshot()
            if after != before and not OWN_WRITES & {endpoint, url}:
                changed = [t for t in after if after[t] != before[t]]
                leaks.append((name, method, url, "changed", changed))
            before = after
            new_audit = db.session.scalars(sa.select(AuditLog).where(
                AuditLog.id > (audit_before or 0), AuditLog.municipality_id == a_id)).all()
            if new_audit and not OWN_WRITES & {endpoint, url}:
                leaks.append((name, method, url, "audited", [a.action for a in new_audit]))
            audit_before = db.session.scalar(sa.select(sa.func.max(AuditLog.id)))
    assert leaks == [], "\n".join(map(repr, leaks))


def test_admin_bound_to_another_municipality_cannot_void_a_visit(client, world):
    from opplevelseskort.checkin.models import CheckIn

    login(client, world["outsiders"]["admin-B"])
    visit_id = world["ids"]["checkin_id"]
    r = client.post(f"/besok/{visit_id}/annuller", data={"reason": "feil"})
    assert r.status_code == 404  # not "forbidden": another municipality's visit does not exist for this admin
    assert db.session.get(CheckIn, visit_id).voided_at is None


# --- one resolver for the current municipality ---------------------------------------------------------

def _apply(client, zone="", **kw):
    from ..cards.test_applications_import import _apply_form

    return client.post("/sok-om-kort", data=_apply_form(zone=zone), **kw)


def _partner_form(org="974760673"):
    return {"name": "Ny klubb", "org_number": org, "kind": "club", "contact_name": "Per",
            "contact_email": "per@klubb.no"}


def test_with_two_municipalities_the_public_forms_ask_which_one(client, muni, other_muni):
    from opplevelseskort.cards.models import Application

    r = client.get("/sok-om-kort")
    assert r.status_code == 302 and "/kommune" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    assert "Nabobygd" in page.text and "Testby" in page.text
    r = client.post("/kommune", data={"municipality": "3002", "next": "/sok-om-kort"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/sok-om-kort")
    assert _apply(client).status_code == 200
    a = db.session.scalar(db.select(Application))
    assert a.municipality_id == other_muni.id  # not "the first municipality by id"


def test_partner_registration_lands_in_the_chosen_municipality(client, muni, other_muni):
    assert client.post("/partnere/registrer", data=_partner_form()).status_code == 302
    client.post("/kommune", data={"municipality": "3002"})
    assert client.post("/partnere/registrer", data=_partner_form()).status_code == 200
    p = db.session.scalar(db.select(Partner).filter_by(name="Ny klubb"))
    assert p.municipality_id == other_muni.id


def test_the_host_name_decides_in_a_shared_deployment(make_app, muni, other_muni):
    from opplevelseskort.cards.models import Application

    app = make_app(MUNICIPALITY_HOSTS={"kort.nabobygd.no": "3002"}, SERVER_NAME=None)
    c = app.test_client()
    assert _apply(c, base_url="http://kort.nabobygd.no").status_code == 200
    assert db.session.scalar(db.select(Application)).municipality_id == other_muni.id


def test_an_unknown_municipality_choice_is_refused(client, muni, other_muni):
    r = client.post("/kommune", data={"municipality": "9999"})
    assert r.status_code == 422
    assert client.get("/sok-om-kort").status_code == 302


def test_unrestricted_admin_chooses_where_to_register_a_household(client, users, muni, other_muni):
    login(client, users["admin"])
    r = client.get("/husstand/ny")
    assert r.status_code == 302 and "/kommune" in r.headers["Location"]
    client.post("/kommune", data={"municipality": "3001"})
    assert client.get("/husstand/ny").status_code == 200


def test_staff_bound_to_a_municipality_never_switch_by_choice(client, users, muni, other_muni):
    from opplevelseskort.core.tenancy import current_municipality

    login(client, users["caseworker"])
    client.post("/kommune", data={"municipality": "3002"})
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(users["caseworker"])
        assert current_municipality().id == muni.id
