"""Children's wishes (issue 41): rounds, anonymous class codes (once each, tied to no child), card holders (once per
round, a salted hash apart from the answers, deleted at the close, a parent's opt-out), the questions (up to five,
moderated masked free text only where the round allows it), protected results (too few answers, small counts,
totals that give nothing away), publishing (raw answers deleted), gaps, calls, wish-born offers and the loop back,
the notice in nine languages, the nightly schedule."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.clock import today
from opplevelseskort.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.wishes import calls, catalogue, jobs, notice, results, services
from opplevelseskort.wishes.models import (
    WishAnswer,
    WishCode,
    WishRound,
    WishRoundStatus,
    WishVoter,
)

from ..conftest import login
from ..factories import make_card, offer_values

A = services.AnswerInput


@pytest.fixture
def wish_round(muni, zone_set, users):
    return services.open_round(muni, services.RoundInput("Hva vil du prøve?", today() - timedelta(days=1),
                                                         today() + timedelta(days=14), free_text=True),
                               actor=users["admin"])


@pytest.fixture
def klass(wish_round, zone_set, users):
    return services.add_class(wish_round, school="Byskolen", name="5B", grade_band="5-7",
                              zone_id=zone_set["30010101"].id, pupils=30, languages=["ar", "uk"],
                              actor=users["admin"])


def _answer_all(klass, wishes: list[list[str]]) -> None:
    for code, chosen in zip(services.codes_of(klass), wishes, strict=False):
        services.answer_with_code(code.code, A(chosen, True, ["weekend"]))


def test_a_round_is_checked_and_only_the_admin_opens_one(muni, users):
    with pytest.raises(DomainError) as bad:
        services.open_round(muni, services.RoundInput("", today(), today() - timedelta(days=1), grade_bands=[]),
                            actor=users["admin"])
    assert set(bad.value.details["fields"]) == {"title", "closes_on", "grade_bands"}
    with pytest.raises(PermissionDenied):
        services.open_round(muni, services.RoundInput("x", today(), today()), actor=users["analyst"])


def test_a_class_gets_one_time_codes_and_each_answers_once(klass):
    codes = services.codes_of(klass)
    assert len(codes) == 30 and len({c.code for c in codes}) == 30
    assert all(set(c.code) <= set(services.CODE_ALPHABET) and len(c.code) == 8 for c in codes)
    services.answer_with_code(codes[0].code.lower(), A(["football", "dance"]))  # case forgiven
    with pytest.raises(Conflict) as again:
        services.answer_with_code(codes[0].code, A(["chess"]))
    assert again.value.code == "wish_code_used" and again.value.status == 409
    with pytest.raises(NotFound):
        services.answer_with_code("NOSUCHCODE", A(["chess"]))
    answer = db.session.scalar(sa.select(WishAnswer))
    assert (answer.school, answer.grade_band, answer.zone_id) == ("Byskolen", "5-7", klass.zone_id)


def test_an_answer_is_tied_to_no_child_card_or_code(app):
    """The schema itself: no foreign key from an answer to a child, a card or a code, and no column that could hold
    one; a code keeps no time (a time would line up with an answer)."""
    answer = db.metadata.tables["wish_answer"]
    targets = {fk.column.table.name for fk in answer.foreign_keys}
    assert targets == {"wish_round", "zone"}
    assert not {c.name for c in answer.columns} & {"child_id", "card_id", "code_id", "code", "created_at",
                                                     "voter_hash"}
    assert {c.name for c in db.metadata.tables["wish_code"].columns} == {"id", "class_id", "code", "used"}
    voter = db.metadata.tables["wish_voter"]
    assert {fk.column.table.name for fk in voter.foreign_keys} == {"wish_round"}


def test_the_questions_are_checked(wish_round, klass, users, muni):
    code = services.codes_of(klass)[0].code
    for bad, field in (([], "activities"), (["football"] * 1 + ["dance", "chess", "art", "film", "photo"],
                                            "activities"), (["curling"], "activities")):
        with pytest.raises(DomainError) as exc:
            services.answer_with_code(code, A(bad))
        assert field in exc.value.details["fields"]
    with pytest.raises(DomainError) as long_text:
        services.answer_with_code(code, A(["football"], free_text="x" * 201))
    assert "free_text" in long_text.value.details["fields"]
    assert db.session.get(WishCode, services.codes_of(klass)[0].id).used is False  # nothing spent by a refusal
    closed = services.open_round(muni, services.RoundInput("Uten fritekst", today(), today()), actor=users["admin"])
    other = services.add_class(closed, school="Byskolen", name="6A", grade_band="5-7", zone_id=klass.zone_id,
                               pupils=1, languages=[], actor=users["admin"])
    with pytest.raises(DomainError) as no_text:
        services.answer_with_code(services.codes_of(other)[0].code, A(["football"], free_text="Noe"))
    assert "free_text" in no_text.value.details["fields"]


def test_free_text_is_masked_held_and_moderated_and_never_in_the_results(wish_round, klass, users):
    code = services.codes_of(klass)[0].code
    services.answer_with_code(code, A(["other"], free_text="Jeg og Ola vil ha parkour, ring 412 34 567 eller "
                                                            "ola@example.no"))
    (held,) = services.held_texts(wish_round)
    assert "Ola" not in held.free_text and "412" not in held.free_text and "example" not in held.free_text
    assert "parkour" in held.free_text
    services.moderate(held.id, True, actor=users["admin"])
    assert services.approved_texts(wish_round) == [held.free_text]
    assert "parkour" not in str(results.compute(wish_round))


def _card_of_age(muni, users, zone, name, age):
    card = make_card(muni, users, name, birth_year=today().year - age)
    card.child.zone_id = zone.id
    db.session.flush()
    return card


def test_a_card_holder_answers_once_through_a_hash_kept_apart_and_deleted_at_the_close(wish_round, muni, users,
                                                                                         zone_set):
    card = _card_of_age(muni, users, zone_set["30010101"], "Sara", 11)
    assert services.rounds_for_card(card) == [wish_round]
    answer = services.answer_with_card(wish_round, card, A(["climbing"]))
    assert answer.grade_band == "5-7" and answer.zone_id == zone_set["30010101"].id
    assert services.has_answered(wish_round, card)
    with pytest.raises(Conflict):
        services.answer_with_card(wish_round, card, A(["chess"]))
    (voter,) = db.session.scalars(sa.select(WishVoter)).all()
    plain = {hashlib.sha256(str(v).encode()).hexdigest() for v in (card.id, card.child_id, card.short_code)}
    assert len(voter.voter_hash) == 64 and voter.voter_hash not in plain  # keyed by the round's salt
    salt = wish_round.salt
    services.close_round(wish_round, actor=users["admin"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WishVoter)) == 0 and wish_round.salt != salt
    assert services.rounds_for_card(card) == []
    with pytest.raises(DomainError):
        services.answer_with_card(wish_round, card, A(["chess"]))


def test_a_parent_can_turn_wishes_off_for_the_card(wish_round, muni, users, zone_set):
    card = _card_of_age(muni, users, zone_set["30010101"], "Per", 9)
    services.set_opt_out(card, True)
    assert services.rounds_for_card(card) == []
    assert db.session.scalar(sa.select(AuditLog).filter_by(action="wishes.opt_out")).object_id == str(card.id)
    with pytest.raises(DomainError) as exc:
        services.answer_with_card(wish_round, card, A(["football"]))
    assert exc.value.code == "round_not_for_card"


def test_results_say_too_few_answers_hide_small_counts_and_give_nothing_away_through_the_total(
        app, wish_round, klass, muni, users, zone_set):
    # a class of 12 in 30010101 (football 12, dance 3) and 4 card holders in 30010102 (football 4)
    _answer_all(klass, [["football", "dance"]] * 3 + [["football"]] * 9)
    for i in range(4):
        card = _card_of_age(muni, users, zone_set["30010102"], f"Barn{i}", 11)
        services.answer_with_card(wish_round, card, A(["football"]))
    shown = results.compute(wish_round)
    units = {u["zone_code"]: u for u in shown["units"]}
    assert units["30010102"]["answers"] is None and set(units["30010102"]["cells"].values()) == {None}
    assert units["30010101"]["answers"] == 12 and units["30010101"]["cells"]["dance"] is None  # 3: small
    # football: 12 in the big unit, 4 in the small one; the total 16 beside 12 would give the 4 away
    assert units["30010101"]["cells"]["football"] is None or shown["totals"]["football"] is None
    assert shown["totals"]["chess"] == 0 and shown["answers"] == 16


def test_publishing_keeps_the_protected_results_and_deletes_the_answers(wish_round, klass, users):
    _answer_all(klass, [["football"]] * 12)
    with pytest.raises(DomainError):
        results.publish(wish_round, actor=users["admin"])  # still open
    before = results.compute(wish_round)
    services.close_round(wish_round, actor=users["admin"])
    results.publish(wish_round, actor=users["admin"])
    assert wish_round.status == WishRoundStatus.PUBLISHED and wish_round.results == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WishAnswer)) == 0
    assert results.results(wish_round) == before
    # the codes stay (they hold no answer): the class still opens what its wishes led to
    assert services.code_of(services.codes_of(klass)[0].code).used


def test_gaps_calls_and_the_offer_born_from_a_wish(app, wish_round, klass, users, muni, zone_set, partner_org):
    _answer_all(klass, [["football", "climbing"]] * 12)
    partners.save_offer(users["partner"], offer_values(title="Fotball for alle"), {}, zone_text="30010101")
    gaps = results.gaps(wish_round)
    assert [g.activity for g in gaps] == ["climbing"] and gaps[0].wished == 12  # football is offered there
    call = calls.create_call(wish_round, activity="climbing", zone_id=zone_set["30010101"].id, grade_band="5-7",
                             times=["weekend"], text="Barna vil klatre", actor=users["admin"])
    assert calls.calls_for(users["partner"]) == [call] and calls.calls_for(users["caseworker"]) == []
    offer = calls.answer_call(call, users["partner"], calls.CallAnswer(
        "Klatring i hallen", "Prøv klatring", "Klatrehallen", today(), today() + timedelta(days=60)))
    assert (offer.category, offer.age_min, offer.age_max, offer.zone_id) == ("sport", 10, 12,
                                                                            zone_set["30010101"].id)
    assert calls.born_offers(muni.id, zone_id=zone_set["30010101"].id) == [offer]
    assert calls.born_offers(muni.id, zone_id=zone_set["30010201"].id) == []  # another zone's children
    assert calls.born_offers(muni.id, zone_id=zone_set["30010101"].parent_id) == [offer]  # the zone above it
    assert results.gaps(wish_round) == []
    # uptake apart, small counts hidden
    kid = make_card(muni, users, "Klatrer", birth_year=today().year - 11)
    checkin.record_checkin(kid.short_code, offer, actor=users["partner"], at=datetime.now(UTC))
    assert calls.uptake(wish_round) == {"offers": 1, "visits": None, "children": None}


def test_the_notice_exists_in_all_nine_languages(wish_round):
    texts = {lang: notice.notice(lang, wish_round) for lang in catalogue.LANGS}
    for lang in catalogue.LANGS:
        assert len(texts[lang]["paragraphs"]) == 4
        if lang != "nb":
            assert texts[lang]["paragraphs"][1] != texts["nb"]["paragraphs"][1], lang
    assert texts["ar"]["rtl"] and not texts["uk"]["rtl"]
    assert all(a.name(lang) for a in catalogue.ACTIVITIES for lang in catalogue.LANGS)
    assert 40 <= len(catalogue.ACTIVITIES) <= 80 and catalogue.ACTIVITIES[-1].code == "other"


def test_the_night_closes_ended_rounds_and_publishes_after_the_retention(wish_round, klass, users):
    _answer_all(klass, [["football"]] * 3)
    wish_round.opens_on = today() - timedelta(days=60)
    wish_round.closes_on = today() - timedelta(days=1)
    assert jobs.wishes_night() == {"closed": 1, "published": 0}
    wish_round.closes_on = today() - timedelta(days=notice.RETENTION_DAYS + 1)
    assert jobs.wishes_night() == {"closed": 0, "published": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WishAnswer)) == 0


def test_the_class_code_pages(client, wish_round, klass, muni):
    code = services.codes_of(klass)[0].code
    entry = client.post("/onsker/kode", data={"code": code.lower()})
    assert entry.status_code == 302 and entry.headers["Location"].endswith(f"/onsker/svar/{code}")
    page = client.get(f"/onsker/svar/{code}")
    assert page.status_code == 200 and "Fotball" in page.text and "Om ønskerunden" in page.text
    too_many = client.post(f"/onsker/svar/{code}", data={"activities": ["football", "dance", "chess", "art", "film",
                                                                        "photo"]})
    assert too_many.status_code == 422 and "høyst 5" in too_many.text
    done = client.post(f"/onsker/svar/{code}", data={"activities": ["football", "dance"], "with_friend": "yes",
                                                     "times": ["weekend"]})
    assert done.status_code == 302
    after = client.get(f"/onsker/svar/{code}")
    assert after.status_code == 200 and "Takk for at du svarte" in after.text
    assert client.post(f"/onsker/svar/{code}", data={"activities": ["chess"]}).status_code == 200  # the thanks page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WishAnswer)) == 1
    assert client.get("/onsker/svar/UKJENT12").status_code == 404
    public = client.get("/onsker")
    assert public.status_code == 200 and wish_round.title in public.text


def test_the_culture_office_pages(client, wish_round, klass, users, zone_set):
    login(client, users["admin"])
    page = client.get(f"/admin/onsker/{wish_round.id}")
    assert page.status_code == 200 and "Byskolen 5B" in page.text
    sheet = client.get(f"/admin/onsker/{wish_round.id}/klasser/{klass.id}")
    codes = services.codes_of(klass)
    assert sheet.status_code == 200 and all(c.code in sheet.text for c in codes)
    assert 'lang="ar" dir="rtl"' in sheet.text and 'lang="uk"' in sheet.text
    bad = client.post(f"/admin/onsker/{wish_round.id}/klasser", data={"school": "Byskolen", "grade_band": "5-7",
                                                                     "zone_id": zone_set["30010101"].id,
                                                                     "pupils": "400"})
    assert bad.status_code == 422
    made = client.post("/admin/onsker", data={"title": "Vår", "opens_on": today().isoformat(),
                                              "closes_on": today().isoformat(), "grade_bands": ["1-4"],
                                              "card_holders": "y"})
    assert made.status_code == 302
    assert db.session.scalar(sa.select(WishRound).filter_by(title="Vår")).grade_bands == ["1-4"]
    login(client, users["analyst"])
    assert client.get(f"/admin/onsker/{wish_round.id}").status_code == 403


def test_a_card_holder_wishes_on_the_card_page_and_a_parent_can_say_no(client, wish_round, muni, users, zone_set):
    card = _card_of_age(muni, users, zone_set["30010101"], "Mina", 11)
    page = client.get(f"/kort/{card.family_token}")
    assert page.status_code == 200 and "Si hva du vil prøve" in page.text
    url = f"/kort/{card.family_token}/onsker/{wish_round.id}?sprak=ar"
    form = client.get(url)
    assert form.status_code == 200 and 'dir="rtl"' in form.text and "التسلق" in form.text
    assert client.post(url, data={"activities": ["climbing"]}).status_code == 302
    assert client.get(url).status_code == 302  # answered: back to the card page, saying so
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WishAnswer)) == 1
    other = _card_of_age(muni, users, zone_set["30010101"], "Nora", 11)
    assert client.post(f"/kort/{other.family_token}/onsker", data={"opt_out": "y"}).status_code == 302
    assert other.wishes_opt_out
    assert "Si hva du vil prøve" not in client.get(f"/kort/{other.family_token}?sprak=nb").text
    assert client.get(f"/kort/{other.family_token}/onsker/{wish_round.id}").status_code == 404


def test_the_card_page_shows_offers_born_from_wishes_in_the_childs_zone(client, wish_round, muni, users, zone_set,
                                                                         partner_org):
    call = calls.create_call(wish_round, activity="dance", zone_id=zone_set["30010101"].id, grade_band="5-7",
                             times=[], text="", actor=users["admin"])
    calls.answer_call(call, users["partner"], calls.CallAnswer("Dans etter skolen", "Hiphop", "Kulturhuset",
                                                               today(), today() + timedelta(days=30)))
    here = _card_of_age(muni, users, zone_set["30010101"], "Ida", 11)
    there = _card_of_age(muni, users, zone_set["30010201"], "Ali", 11)
    def wished(card):  # the card page's "new because children wished for it" list
        text = client.get(f"/kort/{card.family_token}").text
        return text.split("Nytt fordi barn ønsket det", 1)[1].split("</ul>", 1)[0] if "Nytt fordi" in text else ""

    assert "Dans etter skolen" in wished(here)
    assert "Dans etter skolen" not in wished(there)
