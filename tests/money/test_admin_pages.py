"""The admin's pages of activity money (issue 40): a scheme made on the page and granted at once, the register of
providers with every problem of a registration named, and a suspension."""

from __future__ import annotations

import sqlalchemy as sa

from opplevelseskort.extensions import db
from opplevelseskort.money.models import Account, AccountKind, MoneyRegistration, Scheme

from ..conftest import login
from .conftest import BANK_ACCOUNT


def test_a_scheme_made_on_the_page_grants_at_once(client, users, kid, zone_set):
    login(client, users["admin"])
    assert client.get("/admin/aktivitetspenger").status_code == 200
    made = client.post("/admin/aktivitetspenger", data={"name": "Fritidskortet", "amount_kr": "800", "age_min": "6",
                                                        "age_max": "17", "topup_kr": "200",
                                                        "topup_zones": [str(zone_set["30010101"].id)]})
    assert made.status_code == 302
    scheme = db.session.scalar(sa.select(Scheme))
    assert (scheme.amount_ore, scheme.topup_ore, scheme.topup_zone_ids) == (80_000, 20_000, [zone_set["30010101"].id])
    assert client.post(f"/admin/aktivitetspenger/{scheme.id}/del-ut").status_code == 302
    account = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.CHILD))
    assert account.balance == 100_000
    page = client.get("/admin/aktivitetspenger").get_data(as_text=True)
    assert "1\u00a0000 kr" in page
    wrong = client.post("/admin/aktivitetspenger", data={"name": "X", "amount_kr": "0"})
    assert wrong.status_code == 422


def test_the_register_names_every_problem_and_a_partner_can_be_suspended(client, users, partner_org):
    login(client, users["admin"])
    bad = client.post("/admin/aktivitetspenger/partnere", data={
        "partner_id": partner_org.id, "org_number": "123456789", "account_number": "12345678901",
        "contact_email": "nobody"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Organisasjonsnummeret" in page and "Kontonummeret" in page
    assert "betale tilbake" in page and not db.session.scalar(sa.select(MoneyRegistration))
    good = client.post("/admin/aktivitetspenger/partnere", data={
        "partner_id": partner_org.id, "org_number": partner_org.org_number, "account_number": BANK_ACCOUNT,
        "contact_email": "kasserer@klubb.no", "repayment_accepted": "y"})
    assert good.status_code == 302
    assert db.session.scalar(sa.select(MoneyRegistration)).takes_money
    assert client.post(f"/admin/aktivitetspenger/partnere/{partner_org.id}/suspender").status_code == 302
    assert not db.session.scalar(sa.select(MoneyRegistration)).takes_money
    assert "Suspendert" in client.get("/admin/aktivitetspenger/partnere").get_data(as_text=True)
