"""Offline check-in judged at sync (issue 39, item 5): two fake scanners queue scans without a network and sync
later, in every order; the server counts each visit key (card, offer, local day) once and keeps the others as
visible duplicates, answers a batch sent twice the same way, and stores and flags what the door could not know."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from opplevelseskort.cards import services as cards
from opplevelseskort.cards import signing
from opplevelseskort.checkin import offline, statements
from opplevelseskort.checkin import services as checkin
from opplevelseskort.checkin.models import CheckIn, CheckinSource, OfflineScan, ScanOutcome
from opplevelseskort.core.errors import DomainError
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.partners.services import create_staff_user

from ..conftest import PASSWORD
from ..factories import approved_partner, make_card, offer_values

NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday: the sync
SCAN = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # the day before, in the forest


@dataclass
class Scanner:
    """A partner's phone without a network: its clock is `error` off, and it may know it (`knows`)."""

    user: object
    device_id: str
    error: timedelta = timedelta(0)
    knows: bool = True
    queue: list = field(default_factory=list)
    n: int = 0

    def scan(self, code: str, offer, at: datetime, companions: int = 0) -> offline.ScanEvent:
        self.n += 1
        event = offline.ScanEvent(f"{self.device_id}-{self.n:04d}", offer.id, code, at + self.error,
                                  int(-self.error.total_seconds()) if self.knows else 0, companions)
        self.queue.append(event)
        return event

    def sync(self, events=None, now: datetime = NOW) -> list[offline.Verdict]:
        events = self.queue if events is None else events
        return offline.sync(events, actor=self.user, device_id=self.device_id, sent_at=now + self.error, now=now)


@pytest.fixture
def offer(users):
    return partners.save_offer(users["partner"], offer_values(), {})


@pytest.fixture
def kid(muni, users):
    card = make_card(muni, users, "Sara", birth_year=2014)
    return card, signing.sign_card(card, now=SCAN - timedelta(days=30))


@pytest.fixture
def phones(users, partner_org):
    second = create_staff_user("dør2@test.no", PASSWORD, "partner", name="Dør 2", municipality_id=partner_org.municipality_id,
                               partner_id=partner_org.id)
    db.session.flush()
    return Scanner(users["partner"], "phone-a"), Scanner(second, "phone-b")


def _state():
    """What the server holds: every scan's outcome and flags, and the counted visits (offline)."""
    scans = {s.event_id: (str(s.outcome), tuple(sorted(s.flags or [])))
             for s in db.session.scalars(sa.select(OfflineScan).order_by(OfflineScan.event_id))}
    visits = sorted((v.card_id, v.offer_id, v.at) for v in db.session.scalars(
        sa.select(CheckIn).where(CheckIn.source == CheckinSource.OFFLINE, CheckIn.voided_at.is_(None))))
    return scans, visits


def _reset():
    db.session.execute(sa.delete(OfflineScan))
    db.session.execute(sa.delete(CheckIn))
    db.session.flush()


def test_one_child_at_two_doors_counts_once_whatever_the_order(offer, kid, phones):
    card, code = kid
    a, b = phones
    first = a.scan(code, offer, SCAN)
    second = b.scan(code, offer, SCAN + timedelta(minutes=7))
    ways = {  # how the two events can reach the server
        "a then b": [(a, [first]), (b, [second])],
        "b then a": [(b, [second]), (a, [first])],
        "b alone, twice": [(b, [second]), (b, [second]), (a, [first])],
    }
    results = {}
    for name, batches in ways.items():
        _reset()
        for phone, events in batches:
            phone.sync(events)
        results[name] = _state()
    assert len({repr(r) for r in results.values()}) == 1, results  # the same end state in every order
    scans, visits = results["a then b"]
    assert scans == {first.event_id: ("accepted", ()), second.event_id: ("duplicate", ())}
    assert visits == [(card.id, offer.id, SCAN)]  # counted once, at the earlier scan
    duplicate = db.session.scalar(sa.select(OfflineScan).where(OfflineScan.event_id == second.event_id))
    assert duplicate.duplicate_of_id is not None  # visible, tied to the counted visit


def test_a_batch_sent_twice_is_answered_the_same_and_counted_once(offer, kid, phones):
    _card, code = kid
    a, _b = phones
    a.scan(code, offer, SCAN)
    a.scan(code, offer, SCAN + timedelta(days=-1))  # another day: another visit
    first = [v.as_json() for v in a.sync()]
    again = [v.as_json() for v in a.sync()]
    assert first == again and [v["status"] for v in first] == ["accepted", "accepted"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 2


def test_the_same_event_id_with_another_scan_is_refused_and_nothing_is_overwritten(offer, kid, phones):
    card, code = kid
    a, _b = phones
    event = a.scan(code, offer, SCAN)
    a.sync()
    forged = offline.ScanEvent(event.event_id, offer.id, code, SCAN + timedelta(days=-2))
    (verdict,) = a.sync([forged])
    assert (verdict.status, verdict.reason) == (ScanOutcome.REJECTED, "event_id_reused")
    stored = db.session.scalar(sa.select(OfflineScan).where(OfflineScan.event_id == event.event_id))
    assert stored.scanned_at == SCAN and stored.outcome == ScanOutcome.ACCEPTED


def test_a_visit_recorded_online_that_day_stays_the_counted_one(offer, kid, phones, users):
    card, code = kid
    a, _b = phones
    online = checkin.record_checkin(card.short_code, offer, actor=users["partner"], at=SCAN + timedelta(hours=2))
    (verdict,) = a.sync([a.scan(code, offer, SCAN)])
    assert verdict.status == ScanOutcome.DUPLICATE and verdict.checkin_id == online.visit.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1


def test_a_quota_exceeded_offline_is_stored_and_the_scans_past_the_limit_in_time_order_are_flagged(users, kid, phones):
    offer = partners.save_offer(users["partner"], offer_values(use_limit=2, use_limit_period="week"), {})
    _card, code = kid
    a, b = phones
    monday = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
    events = [a.scan(code, offer, monday), b.scan(code, offer, monday + timedelta(days=1)),
              a.scan(code, offer, monday + timedelta(days=2))]
    ends = set()
    for order in itertools.permutations(events):
        _reset()
        for event in order:  # each event its own sync, as phones reaching coverage one by one
            (a if event.event_id.startswith("phone-a") else b).sync([event])
        ends.add(repr(_state()))
    assert len(ends) == 1
    scans, visits = _state()
    assert [scans[e.event_id] for e in events] == [("accepted", ()), ("accepted", ()), ("accepted", ("quota_exceeded",))]
    assert len(visits) == 3  # the child came: stored, flagged for the partner and the caseworker


def test_a_card_revoked_before_the_scan_is_flagged_and_one_revoked_after_is_not(offer, kid, phones, users):
    """The phone's revocation list was older than the revocation: it let the child in; the server says so."""
    card, code = kid
    a, _b = phones
    cards.revoke_card(card, "lost", actor=users["caseworker"])
    before = a.scan(code, offer, card.revoked_at - timedelta(hours=1))
    after = a.scan(code, offer, card.revoked_at + timedelta(hours=1))
    verdicts = {v.event_id: v for v in a.sync(now=card.revoked_at + timedelta(hours=3))}
    assert "revoked_before_scan" not in verdicts[before.event_id].flags
    assert "revoked_before_scan" in verdicts[after.event_id].flags
    assert all(v.status != ScanOutcome.REJECTED for v in verdicts.values())  # stored: the child came


@pytest.mark.parametrize(("error", "knows", "flagged"), [
    (timedelta(minutes=5), False, False),  # a few minutes off: fine
    (timedelta(minutes=15), False, True),  # off by more than ten minutes
    (timedelta(minutes=-45), True, True),  # off, though it knew by how much: corrected, and still flagged
    (timedelta(hours=-3), False, True),
])
def test_a_device_clock_off_by_more_than_ten_minutes_is_flagged_and_the_time_corrected(offer, kid, users, error,
                                                                                        knows, flagged):
    _card, code = kid
    phone = Scanner(users["partner"], "phone-c", error=error, knows=knows)
    (verdict,) = phone.sync([phone.scan(code, offer, SCAN)])
    assert verdict.status == ScanOutcome.ACCEPTED
    assert ("clock_skew" in verdict.flags) is flagged
    assert db.session.get(CheckIn, verdict.checkin_id).at == SCAN  # the scan's true time, whatever the clock said


def _altered(code: str) -> str:
    body = code[len(signing.PREFIX):]
    return signing.PREFIX + body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]


@pytest.mark.parametrize(("case", "reason"), [
    ("altered code", "code_invalid"),
    ("typed card number", "code_invalid"),
    ("another partner's offer", "offer_not_found"),
    ("an offer that does not exist", "offer_not_found"),
    ("in the future", "time_in_future"),
    ("older than 30 days", "too_old"),
    ("another municipality's card", "code_invalid"),
])
def test_what_the_server_cannot_stand_behind_is_rejected_with_its_reason(case, reason, offer, kid, phones, users,
                                                                         muni, other_muni):
    card, code = kid
    a, _b = phones
    at, offer_id = SCAN, offer.id
    if case == "altered code":
        code = _altered(code)
    elif case == "typed card number":
        code = card.short_code
    elif case == "another partner's offer":
        org = approved_partner(muni, "Annen klubb", "923609016")
        owner = create_staff_user("annen@test.no", PASSWORD, "partner", municipality_id=org.municipality_id,
                                  partner_id=org.id)
        offer_id = partners.save_offer(owner, offer_values(), {}).id
    elif case == "an offer that does not exist":
        offer_id = 10**6
    elif case == "in the future":
        at = NOW + timedelta(minutes=30)
    elif case == "older than 30 days":
        at = NOW - timedelta(days=31)
    elif case == "another municipality's card":
        # the neighbour's own key, vouching for one of our card numbers
        code = signing.sign_card(SimpleNamespace(municipality_id=other_muni.id, short_code=card.short_code,
                                                 valid_until=card.valid_until))
    event = offline.ScanEvent("phone-a-x0001", offer_id, code, at)
    (verdict,) = a.sync([event])
    assert (verdict.status, verdict.reason) == (ScanOutcome.REJECTED, reason), case
    assert verdict.message  # words for the partner, in their language
    stored = db.session.scalar(sa.select(OfflineScan).where(OfflineScan.event_id == event.event_id))
    assert stored.outcome == ScanOutcome.REJECTED and stored.checkin_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 0


def test_more_than_500_events_are_refused_whole(offer, kid, phones):
    _card, code = kid
    a, _b = phones
    events = [offline.ScanEvent(f"phone-a-{i:05d}", offer.id, code, SCAN) for i in range(501)]
    with pytest.raises(DomainError) as exc:
        a.sync(events)
    assert exc.value.code == "too_many_events"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfflineScan)) == 0


def test_the_database_holds_one_counted_scan_per_visit_key(offer, kid, phones):
    _card, code = kid
    a, _b = phones
    a.sync([a.scan(code, offer, SCAN)])
    row = db.session.scalar(sa.select(OfflineScan))
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(OfflineScan(**{c.name: getattr(row, c.name) for c in OfflineScan.__table__.columns
                                      if c.name not in ("id", "event_id")}, event_id="forged-0001"))
        db.session.flush()


def test_the_partners_statement_shows_the_duplicate_beside_the_visit_counted_once(offer, kid, phones, client, users):
    from ..conftest import login

    _card, code = kid
    a, b = phones
    a.sync([a.scan(code, offer, SCAN)])
    b.sync([b.scan(code, offer, SCAN + timedelta(minutes=3))])
    b.sync([offline.ScanEvent("phone-b-bad1", offer.id, _altered(code), SCAN)])
    login(client, users["partner"])
    page = client.get("/besok/oppgjor?month=2026-03").get_data(as_text=True)
    assert "Skanninger uten nett som ikke ble telt vanlig" in page
    assert "Dobbeltskannet" in page and "Avvist" in page and "Koden kan ikke bekreftes" in page
    lines = statements.statement(offer.partner_id, "2026-03")
    assert sorted(line.outcome for line in lines.offline) == ["duplicate", "rejected"]
    assert lines.total_visits == 1  # counted once


@pytest.mark.pg
def test_two_scanners_syncing_the_same_visit_at_once_count_it_once(app, committing, muni, users, partner_org):
    offer_id = partners.save_offer(users["partner"], offer_values(), {}).id
    card = make_card(muni, users, "Sara")
    code = signing.sign_card(card)
    second = create_staff_user("dør2@test.no", PASSWORD, "partner", municipality_id=muni.id, partner_id=partner_org.id)
    db.session.commit()
    user_ids = [users["partner"].id, second.id]
    barrier, answers = threading.Barrier(2), []

    def run(i: int):
        with app.app_context():
            from opplevelseskort.accounts.models import User

            user = db.session.get(User, user_ids[i])
            event = offline.ScanEvent(f"phone-{i}-0001", offer_id, code, SCAN + timedelta(minutes=i))
            barrier.wait()
            answers.append(offline.sync([event], actor=user, device_id=f"phone-{i}", sent_at=NOW, now=NOW)[0].status)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 2
    counted = db.session.scalars(sa.select(OfflineScan.event_id).where(OfflineScan.outcome == ScanOutcome.ACCEPTED)).all()
    assert counted == ["phone-0-0001"]  # the earlier scan, whichever sync came first
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1


def _body(events, sent_at=NOW):
    return {"device_id": "phone-a", "sent_at": sent_at.isoformat(), "events": [
        {"event_id": e.event_id, "offer_id": e.offer_id, "code": e.code, "device_at": e.device_at.isoformat(),
         "clock_offset_s": e.clock_offset_s, "companions": e.companions} for e in events]}


def test_the_api_syncs_a_batch_and_names_what_is_wrong_in_one(client, offer, kid, phones, token):
    from .conftest import bearer

    _card, code = kid
    a, _b = phones
    recent = utcnow_minus(2)
    body = _body([a.scan(code, offer, recent)], sent_at=utcnow_minus(0))
    answer = client.post("/api/v1/checkins/offline", json=body, headers=bearer(token))
    assert answer.status_code == 200, answer.json
    assert [r["status"] for r in answer.json["results"]] == ["accepted"] and answer.json["server_time"]
    again = client.post("/api/v1/checkins/offline", json=body, headers=bearer(token))
    assert again.json["results"] == answer.json["results"]  # the same answer, one visit
    body["events"][0]["device_at"] = "yesterday"
    wrong = client.post("/api/v1/checkins/offline", json=body, headers=bearer(token))
    assert wrong.status_code == 422 and wrong.json["error"] == "invalid_body"
    assert wrong.json["fields"][0]["field"] == "events.0.device_at"
    many = _body([offline.ScanEvent(f"phone-a-{i:05d}", offer.id, code, recent) for i in range(501)])
    too_many = client.post("/api/v1/checkins/offline", json=many, headers=bearer(token))
    assert too_many.status_code == 422 and too_many.json["error"] == "too_many_events"


def test_the_scanner_page_gets_its_rules_and_keys_and_syncs_with_its_session(app, client, offer, kid, phones, users,
                                                                              muni):
    from ..conftest import login

    card, code = kid
    login(client, users["partner"])
    bundle = client.get("/skann/uten-nett/pakke.json")
    assert bundle.status_code == 200 and bundle.headers["Cache-Control"] == "no-store"
    data = bundle.json
    assert [o["id"] for o in data["offers"]] == [offer.id] and data["offers"][0]["age_min"] == 6
    assert data["trust"]["municipality"] == muni.number and [k["status"] for k in data["trust"]["keys"]] == ["active"]
    assert data["csrf_token"] and data["max_events"] == 500 and data["skew_limit_minutes"] == 10
    assert client.get("/skann/uten-nett").status_code == 200
    assert client.get("/skann/sw.js").headers["Service-Worker-Allowed"] == "/skann/"
    assert client.get("/skann/manifest.webmanifest").json["start_url"] == "/skann/uten-nett"
    a, _b = phones
    answer = client.post("/skann/synk", json=_body([a.scan(code, offer, utcnow_minus(1))], utcnow_minus(0)))
    assert answer.status_code == 200 and answer.json["results"][0]["status"] == "accepted"
    refused_body = client.post("/skann/synk", json={"device_id": "x"})
    assert refused_body.status_code == 422 and refused_body.json["error"] == "invalid_body"
    # the list never names a card by the number a family types
    cards.revoke_card(card, "lost", actor=users["caseworker"])
    listed = client.get("/skann/uten-nett/pakke.json").json["trust"]["keys"][0]["revoked"]
    assert len(listed) == 1 and card.short_code not in str(listed)


def utcnow_minus(hours: float = 0) -> datetime:
    from opplevelseskort.core.clock import utcnow

    return utcnow() - timedelta(hours=hours)


@pytest.mark.pg
def test_the_same_batch_sent_twice_at_once_is_stored_once_and_answered_alike(app, committing, muni, users):
    """A phone that retries while its first sync is still in flight: two syncs of the same events at once."""
    offer_id = partners.save_offer(users["partner"], offer_values(), {}).id
    code = signing.sign_card(make_card(muni, users, "Sara"))
    db.session.commit()
    user_id, barrier, answers = users["partner"].id, threading.Barrier(2), []
    events = [offline.ScanEvent(f"retry-{i:04d}", offer_id, code, SCAN + timedelta(days=-i)) for i in range(5)]

    def run():
        with app.app_context():
            from opplevelseskort.accounts.models import User

            user = db.session.get(User, user_id)
            barrier.wait()
            answers.append([v.as_json() for v in offline.sync(events, actor=user, device_id="phone", sent_at=NOW,
                                                               now=NOW)])
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfflineScan)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 5


def test_a_device_clock_centuries_off_is_answered_not_refused(offer, kid, phones):
    """What schemathesis found on PostgreSQL: a clock error of centuries did not fit the column it is kept in."""
    _card, code = kid
    a, _b = phones
    from datetime import datetime as moment

    event = offline.ScanEvent("phone-a-old1", offer.id, code, moment(52, 8, 24, 7, 49, tzinfo=UTC))
    (verdict,) = offline.sync([event], actor=a.user, device_id="phone-a", sent_at=moment(1569, 6, 17, tzinfo=UTC),
                              now=NOW)
    assert (verdict.status, verdict.reason) == (ScanOutcome.REJECTED, "too_old")
    assert db.session.scalar(sa.select(OfflineScan.skew_s).where(OfflineScan.event_id == "phone-a-old1")) > 2**31
