"""No list page grows its statement count with its rows: each is rendered with 5 and with 50 rows of what it
lists, and must run the same number of SQL statements (an N+1 shows as 45 more)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from opplevelseskort.accounts import services as accounts
from opplevelseskort.cards import applications, households
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db
from utstyr import services as utstyr
from utstyr.models import ItemType, Location

from .conftest import PASSWORD, login
from .factories import approved_partner, child_input, guardian_input, make_card, offer


def _households(ctx, n):
    for i in range(n):
        h = households.register_household(ctx["muni"], [guardian_input(phone=f"9{ctx['seq']:03d}{i:04d}")],
                                     [child_input(given_name=f"Barn{ctx['seq']}x{i}")], actor=ctx["users"]["caseworker"])
        cards.issue_card(h.children[0], actor=ctx["users"]["caseworker"], valid_from=date(2026, 1, 1),
                         valid_until=date(2030, 12, 31))


def _applications(ctx, n):
    for i in range(n):
        applications.submit_application(ctx["muni"], households.GuardianInput(f"Foresatt {i}", f"95{ctx['seq']:02d}{i:04d}", None,
                                                                         "nb"),
                                        [{"given_name": f"Sami{i}", "family_name": "Lie", "birth_year": 2015}],
                                        consent=True)


def _users(ctx, n):
    for i in range(n):
        accounts.create_user(f"saksbehandler{ctx['seq']}-{i}@example.org", PASSWORD, Role.CASEWORKER,
                         municipality_id=ctx["muni"].id)


def _partners(ctx, n):
    for i in range(n):
        approved_partner(ctx["muni"], f"Klubb {ctx['seq']}-{i}", f"9{ctx['seq']:02d}{i:06d}")


def _offers(ctx, n):
    for i in range(n):
        offer(ctx["users"], title=f"Tilbud {ctx['seq']}-{i}")


def _visits(ctx, n):
    target = ctx.setdefault("offer", offer(ctx["users"], title="Svømming"))
    for i in range(n):
        card = make_card(ctx["muni"], ctx["users"], f"Besøk{ctx['seq']}x{i}")
        checkin.record_checkin(card.short_code, target, actor=ctx["users"]["partner"], at=datetime.now(UTC))


def _location(ctx):
    if "location" not in ctx:
        loc = Location(municipality_id=ctx["muni"].id, name="Sentralen", solo_age=12)
        loc.volunteers.append(ctx["users"]["volunteer"])
        db.session.add(loc)
        ski = ItemType(municipality_id=ctx["muni"].id, name="Ski", category="ski", size="130 cm", default_loan_days=7)
        db.session.add(ski)
        db.session.flush()
        ctx["location"], ctx["ski"] = loc, ski
    return ctx["location"], ctx["ski"]


def _units(ctx, n):
    loc, ski = _location(ctx)
    utstyr.add_units(ski, loc, n)


def _borrowers(ctx, n):
    _location(ctx)
    for i in range(n):
        card = make_card(ctx["muni"], ctx["users"], f"Låner{ctx['seq']}x{i}")
        utstyr.borrower_for_card(card.short_code, ctx["muni"].id)


PAGES = [
    ("/barn", "caseworker", _households),
    ("/soknader", "caseworker", _applications),
    ("/admin/brukere", "admin", _users),
    ("/admin/partnere", "admin", _partners),
    ("/mine-tilbud", "partner", _offers),
    ("/tilbud", "partner", _offers),
    ("/besok", "partner", _visits),
    ("/utstyr/enheter", "volunteer", _units),
    ("/utstyr/lanere?q=Låner", "volunteer", _borrowers),
]


def _statements(client, url) -> tuple[int, int]:
    count = []
    conn = db.session.connection()

    def before(_conn, _cursor, statement, *_a, **_k):
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            count.append(statement)

    db.session.commit()
    db.session.expire_all()
    sa.event.listen(conn, "before_cursor_execute", before)
    try:
        r = client.get(url)
    finally:
        sa.event.remove(conn, "before_cursor_execute", before)
    assert r.status_code == 200, url
    return r.text, len(count)


@pytest.mark.parametrize(("url", "role", "make"), PAGES, ids=[p[0] for p in PAGES])
def test_a_list_page_runs_as_many_statements_for_50_rows_as_for_5(client, muni, zone_set, users, url, role, make):
    login(client, users[role])
    ctx = {"muni": muni, "users": users, "seq": 1}
    make(ctx, 5)
    page5, five = _statements(client, url)
    ctx["seq"] = 2
    make(ctx, 45)
    page50, fifty = _statements(client, url)
    assert page50.count("<tr") > page5.count("<tr") or page50.count("<li") > page5.count("<li"), "the rows are listed"
    assert fifty == five, f"{url}: {five} statements with 5 rows, {fifty} with 50"
