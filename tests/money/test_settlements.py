"""Partners get paid from the books (issue 40, item 7): a month's settled money frozen into a partner's settlement
(card numbers, never names), made again without a line twice, approved by the finance office (which posts the
payment), exported as CSV and as a JSON settlement basis; only the finance office approves."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from opplevelseskort.core.clock import today
from opplevelseskort.core.errors import Conflict, PermissionDenied
from opplevelseskort.extensions import db
from opplevelseskort.money import services, settlements
from opplevelseskort.money.models import Account, AccountKind, SettlementLine, SettlementStatus

from ..conftest import login

MONTH = today().strftime("%Y-%m")


@pytest.fixture
def spent(scheme, kid, priced):
    services.grant(scheme)
    for amount, paid in ((30_000, None), (20_000, 15_000)):
        held = services.reserve(kid.child_id, priced, amount)
        services.settle(held.id, paid)
    return kid


def test_a_month_is_frozen_into_lines_once_and_approved_by_the_finance_office(spent, club, users):
    made = settlements.make(club, MONTH, actor=users["finance"])
    lines = settlements.lines(made)
    assert [line.amount_ore for line in lines] == [30_000, 15_000] and made.total_ore == 45_000
    assert {line.card_number for line in lines} == {spent.short_code}
    assert settlements.make(club, MONTH, actor=users["finance"]).total_ore == 45_000  # no line twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SettlementLine)) == 2
    with pytest.raises(PermissionDenied):
        settlements.approve(made, actor=users["admin"])  # the finance office approves, nobody else
    settlements.approve(made, actor=users["finance"])
    assert made.status == SettlementStatus.APPROVED and made.payment_transfer_id
    paid = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.PAID))
    payable = db.session.scalar(sa.select(Account).where(Account.kind == AccountKind.PAYABLE))
    assert (paid.balance, payable.balance) == (45_000, 0)
    with pytest.raises(Conflict):
        settlements.approve(made, actor=users["finance"])
    with pytest.raises(Conflict):
        settlements.make(club, MONTH, actor=users["finance"])


def test_the_exports_name_card_numbers_and_kroner_never_a_child(spent, club, users):
    made = settlements.make(club, MONTH, actor=users["finance"])
    data = settlements.as_csv(made)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][3] == spent.short_code and rows[1][4] == "300,00" and rows[2][4] == "150,00"
    assert rows[-1][-1] == "450,00" and "Sara" not in data.decode("utf-8-sig")
    basis = settlements.as_basis(made)
    assert basis["payee"]["organisation_number"] == club.org_number and basis["payee"]["account_number"]
    assert basis["total_ore"] == 45_000 and len(basis["lines"]) == 2 and "Sara" not in str(basis)


def test_the_finance_pages(client, spent, club, users):
    login(client, users["partner"])
    assert client.get("/okonomi/oppgjor").status_code == 403
    login(client, users["finance"])
    assert client.get("/okonomi/oppgjor").status_code == 200
    made = client.post("/okonomi/oppgjor", data={"partner_id": club.id, "month": MONTH})
    assert made.status_code == 302
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert spent.short_code in page and "Sara" not in page and "Godkjenn" in page
    settlement_id = int(made.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/okonomi/oppgjor/{settlement_id}.csv").status_code == 200
    assert client.get(f"/okonomi/oppgjor/{settlement_id}.json").json["total_ore"] == 45_000
    assert client.post(f"/okonomi/oppgjor/{settlement_id}/godkjenn").status_code == 302
    assert "Godkjent for utbetaling" in client.get(f"/okonomi/oppgjor/{settlement_id}").get_data(as_text=True)
    bad = client.post("/okonomi/oppgjor", data={"partner_id": club.id, "month": "2026-13"})
    assert bad.status_code == 422
