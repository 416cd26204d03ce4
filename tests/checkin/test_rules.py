"""The check-in rules, through the service the page and the API share."""

from datetime import UTC, date, datetime, timedelta

import pytest

from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services
from opplevelseskort.checkin.models import CheckIn
from opplevelseskort.core.errors import DomainError, NotFound
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.partners.services import create_staff_user

from ..factories import make_card, offer_values

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _count():
    return db.session.scalar(db.select(db.func.count(CheckIn.id)))


def test_valid_card_is_checked_in_with_zone_and_age_at_that_moment(offer, kid_card, users):
    res = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW)
    c = res.checkin
    assert res.created and c.zone_id == kid_card.child.zone_id and c.age == 11 and c.birth_year == 2014
    assert c.partner_id == offer.partner_id and c.recorded_by_id == users["partner"].id and c.value_nok == 200


def test_second_scan_within_window_is_not_counted(offer, kid_card, users):
    first = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW)
    again = services.record_checkin(kid_card.qr_token, offer, actor=users["partner"], at=NOW + timedelta(hours=2))
    assert not again.created and again.checkin.id == first.checkin.id
    later = services.record_checkin(kid_card.qr_token, offer, actor=users["partner"], at=NOW + timedelta(hours=3, minutes=1))
    assert later.created and _count() == 2


def test_window_is_configurable(app, offer, kid_card, users):
    app.config["CHECKIN_REPEAT_WINDOW_MINUTES"] = 10
    try:
        services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW)
        assert services.record_checkin(kid_card.short_code, offer, actor=users["partner"],
                                       at=NOW + timedelta(minutes=11)).created
    finally:
        app.config["CHECKIN_REPEAT_WINDOW_MINUTES"] = 180


def _refused(code_text, offer, users, at=NOW, **kw):
    with pytest.raises(DomainError) as exc:
        services.record_checkin(code_text, offer, actor=users["partner"], at=at, **kw)
    assert _count() == 0
    return exc.value.code


def test_unknown_card(offer, users):
    assert _refused("ZZZZZZZZZ", offer, users) == "card_unknown"


def test_revoked_card(offer, kid_card, users):
    cards.revoke_card(kid_card, "misuse", actor=users["caseworker"])
    assert _refused(kid_card.short_code, offer, users) == "card_revoked"


def test_expired_card(offer, kid_card, users):
    assert _refused(kid_card.short_code, offer, users, at=datetime(2031, 1, 2, 12, tzinfo=UTC)) == "card_expired"


def test_not_yet_valid_card(offer, kid_card, users):
    assert _refused(kid_card.short_code, offer, users, at=datetime(2025, 12, 1, 12, tzinfo=UTC)) == "card_not_yet_valid"


def test_age_outside_range(users, muni):
    teen = partners.save_offer(users["partner"], offer_values(title="Ungdom", age_min=15, age_max=17), {})
    card = make_card(muni, users, "Liten", birth_year=2019)
    assert _refused(card.short_code, teen, users) == "age_outside_range"


def test_offer_inactive_when_paused_or_outside_dates(users, kid_card):
    paused = partners.save_offer(users["partner"], offer_values(title="Pause", status="paused"), {})
    assert _refused(kid_card.short_code, paused, users) == "offer_inactive"
    later = partners.save_offer(users["partner"], offer_values(title="Senere", start_date=date(2026, 6, 1)), {})
    assert _refused(kid_card.short_code, later, users) == "offer_inactive"


def test_suspended_partner_offer_is_inactive(offer, kid_card, users, partner_org):
    partners.suspend_partner(partner_org, "x", actor=users["admin"])
    assert _refused(kid_card.short_code, offer, users) == "offer_inactive"


def test_quota_per_month(users, kid_card):
    cinema = partners.save_offer(users["partner"], offer_values(title="Kino", use_limit=2, use_limit_period="month"), {})
    for day in (1, 5):
        services.record_checkin(kid_card.short_code, cinema, actor=users["partner"], at=datetime(2026, 3, day, 12, tzinfo=UTC))
    with pytest.raises(DomainError) as exc:
        services.record_checkin(kid_card.short_code, cinema, actor=users["partner"], at=NOW)
    assert exc.value.code == "quota_exceeded"
    assert services.record_checkin(kid_card.short_code, cinema, actor=users["partner"],
                                   at=datetime(2026, 4, 1, 12, tzinfo=UTC)).created


def test_not_booked_for_this_occasion(users, kid_card, muni):
    camp = partners.save_offer(users["partner"], offer_values(title="Leir", requires_booking=True), {})
    occ = partners.add_occasion(camp, NOW - timedelta(hours=1), NOW + timedelta(hours=5), 10, actor=users["partner"])
    assert _refused(kid_card.short_code, camp, users) == "not_booked"
    from opplevelseskort.partners.models import Booking

    db.session.add(Booking(occasion_id=occ.id, child_id=kid_card.child_id, card_id=kid_card.id, status="booked"))
    db.session.flush()
    assert services.record_checkin(kid_card.short_code, camp, actor=users["partner"], at=NOW).created


def test_dated_offer_inactive_on_a_day_without_occasion(users, kid_card):
    camp = partners.save_offer(users["partner"], offer_values(title="Dag"), {})
    partners.add_occasion(camp, NOW + timedelta(days=2), NOW + timedelta(days=2, hours=3), None, actor=users["partner"])
    assert _refused(kid_card.short_code, camp, users) == "offer_inactive"


def test_companions_limited_by_card_and_offer(offer, kid_card, users):
    assert _refused(kid_card.short_code, offer, users, companions=2) == "companions_exceeded"
    res = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW, companions=1)
    assert res.checkin.companions == 1 and res.companions_allowed == 1
    with pytest.raises(DomainError):
        services.set_companions(res.checkin, 3, actor=users["partner"])


def test_other_partner_cannot_check_in_at_my_offer(offer, kid_card, muni, other_partner_org):

    other = create_staff_user("o@x.no", "gront eple 47", "partner", municipality_id=muni.id, partner_id=other_partner_org.id)
    with pytest.raises(DomainError) as exc:
        services.get_offer_for(other, offer.id)
    assert exc.value.status == 403
    with pytest.raises(DomainError):
        services.record_checkin(kid_card.short_code, offer, actor=other, at=NOW)


def test_void_same_day_with_reason_is_audited(offer, kid_card, users):
    from opplevelseskort.core.models import AuditLog

    c = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW).checkin
    with pytest.raises(DomainError):
        services.void_checkin(c, "", actor=users["partner"], now=NOW)
    with pytest.raises(DomainError) as exc:
        services.void_checkin(c, "feil barn", actor=users["partner"], now=NOW + timedelta(days=1))
    assert exc.value.code == "void_too_late"
    services.void_checkin(c, "feil barn", actor=users["partner"], now=NOW + timedelta(hours=1))
    assert c.voided_at is not None
    assert db.session.scalar(db.select(AuditLog).filter_by(action="checkin.void")).details["reason"] == "feil barn"
    # a voided visit does not block a new check-in
    assert services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW + timedelta(hours=1)).created


def test_card_validity_lookup(kid_card, users):
    assert services.card_validity(kid_card.short_code, actor=users["partner"], on=date(2026, 6, 1))["valid"] is True
    assert services.card_validity(kid_card.short_code, actor=users["partner"], on=date(2031, 6, 1))["status"] == "expired"
    with pytest.raises(NotFound):
        services.card_validity("nope", actor=users["partner"])


def test_statement_counts_value_and_excludes_voided(offer, kid_card, users, muni):
    from opplevelseskort.checkin import statements

    other = make_card(muni, users, "Per")
    services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW, companions=1)
    services.record_checkin(other.short_code, offer, actor=users["partner"], at=NOW)
    v = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW + timedelta(days=1)).checkin
    services.void_checkin(v, "feil", actor=users["admin"], now=NOW + timedelta(days=1))
    st = statements.statement(partners.partner_id_of(users["partner"]), "2026-03")
    assert (st.total_visits, st.total_companions, st.total_value) == (2, 1, 400)
    assert "Fotball;2;1;200;400" in statements.statement_csv(st)
    assert statements.statement_pdf(st).startswith(b"%PDF")


def test_unused_cards_list(offer, kid_card, users, muni):
    from opplevelseskort.checkin import statements

    other = make_card(muni, users, "Per")
    services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW)
    rows = statements.unused_cards(users["caseworker"], weeks=4, now=NOW + timedelta(days=7))
    assert [r.card.id for r in rows] == [other.id]
    assert rows[0].guardians[0].phone == "+4791234567"
    rows = statements.unused_cards(users["caseworker"], weeks=4, now=NOW + timedelta(weeks=6))
    assert {r.card.id for r in rows} == {other.id, kid_card.id}


def test_api_checkin_runs_four_statements_whatever_the_data(client, offer, kid_card, users, muni):
    """At the cost of its SQL: token+user, offer+partner+today's occasions, card+child (locked), insert-unless-repeat."""
    import sqlalchemy as sa

    from opplevelseskort.accounts import tokens as api_tokens

    raw = api_tokens.create_token(users["partner"], "x")[1]
    for i in range(5):
        services.record_checkin(make_card(muni, users, f"B{i}").short_code, offer, actor=users["partner"], at=NOW)
    db.session.commit()
    db.session.expire_all()
    count = []
    conn = db.session.connection()

    def before(conn_, cursor, statement, *a, **k):
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            count.append(" ".join(statement.split())[:100])

    client.post("/api/v1/checkins", json={"code": kid_card.short_code, "offer_id": offer.id},
                headers={"Authorization": f"Bearer {raw}"})  # warm: token last-used write
    other = make_card(muni, users, "Ny")
    body = {"code": other.short_code, "offer_id": offer.id}
    db.session.commit()
    db.session.expire_all()
    sa.event.listen(conn, "before_cursor_execute", before)
    try:
        r = client.post("/api/v1/checkins", json=body,
                        headers={"Authorization": f"Bearer {raw}"})
    finally:
        sa.event.remove(conn, "before_cursor_execute", before)
    assert r.status_code == 201
    assert len(count) == 4, count


def test_whether_a_visit_can_be_voided_is_decided_once_and_the_page_asks_it(offer, kid_card, users, client, login_as):
    """The void rule lives in the service (may_void); the visit log offers the button exactly where it holds."""
    c = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW).checkin
    assert services.may_void(users["partner"], c, now=NOW + timedelta(hours=1))
    assert not services.may_void(users["partner"], c, now=NOW + timedelta(days=1))  # a partner: the same day only
    assert services.may_void(users["admin"], c, now=NOW + timedelta(days=1))  # an admin corrects later
    assert not services.may_void(users["caseworker"], c, now=NOW)
    services.void_checkin(c, "feil barn", actor=users["partner"], now=NOW)
    assert not services.may_void(users["admin"], c, now=NOW)  # already void
    rows = services.void_choices(users["partner"], [c], now=NOW)
    assert rows == {c.id: False}


def test_door_words_plural_forms_focus_and_counts_that_agree(client, login_as, offer, kid_card, users, muni):
    """A refusal says what is wrong in words (no bare code), the code field has focus for the next card,
    companions are counted in the right plural, and the visit log counts what the statement counts."""
    login_as("partner")
    page = client.get("/skann").text
    import re

    assert "autofocus" in re.search(r'<input[^>]*id="code"[^>]*>', page).group(0)
    other = make_card(muni, users, "Sperret")
    cards.revoke_card(other, "lost", actor=users["caseworker"])
    r = client.post("/skann", data={"offer_id": offer.id, "code": other.short_code, "source": "typed"})
    assert "Kortet er sperret." in r.text and "card_revoked" not in r.text.split('data-code="card_revoked"')[1]
    first = services.record_checkin(kid_card.short_code, offer, actor=users["partner"], at=NOW).checkin
    r = client.post(f"/skann/resultat/{first.id}/ledsagere", data={"companions": 1}, follow_redirects=True)
    assert "Registrert med 1 ledsager." in r.text
    services.void_checkin(first, "feil barn", actor=users["partner"], now=NOW)
    second = services.record_checkin(make_card(muni, users, "To").short_code, offer, actor=users["partner"], at=NOW)
    month = NOW.strftime("%Y-%m")
    log = client.get(f"/besok?month={month}").text
    assert "1 besøk telt (som i oppgjøret), 1 annullert" in log
    assert second.created


def test_a_suspended_partner_sees_a_clear_page_not_the_scanner(client, login_as, offer, users, partner_org):
    login_as("partner")
    assert client.get("/skann").status_code == 200
    partners.suspend_partner(partner_org, "x", actor=users["admin"])
    r = client.get("/skann")
    assert r.status_code == 403 and "midlertidig stengt" in r.text and 'id="scan-form"' not in r.text
    assert client.post("/skann", data={"code": "X", "offer_id": offer.id}).status_code == 403
