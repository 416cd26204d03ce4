"""Rules live in services and models, words in core.labels (issue 38): templates compare no dates, do no
arithmetic on places, decide no status change and spell no status word of their own."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "templates"
RULES = {
    "a date compared": re.compile(r"(<|<=|>|>=)\s*(today|now)\b|\b(today|now)\s*(<|<=|>|>=)"),
    "places counted": re.compile(r"capacity\s*-|booked\s*<"),
    "cards filtered": re.compile(r"selectattr\(\s*[\"']revoked_at"),
    "a status spelt out": re.compile(r"\.status\s*==\s*[\"']\w+[\"']\s*%\}\s*\{\{\s*_\("),
}


def offences(text: str) -> list[str]:
    return [name for name, pattern in RULES.items() if pattern.search(text)]


def test_the_check_sees_each_kind_of_rule():
    assert offences('{% if ln.loan.due_on < today %}') == ["a date compared"]
    assert offences('{% if t.expires_at <= now %}') == ["a date compared"]
    assert offences('{{ o.capacity - o.booked }}') == ["places counted"]
    assert offences('{% if not child.cards|selectattr("revoked_at", "none")|list %}') == ["cards filtered"]
    assert offences('{% if a.status == "pending" %}{{ _("Venter") }}') == ["a status spelt out"]
    assert offences('{{ label("partner_status", p.status) }}') == []


def test_no_template_holds_a_rule():
    found = {str(p.relative_to(ROOT)): offences(p.read_text()) for p in ROOT.rglob("*.html")}
    assert {k: v for k, v in found.items() if v} == {}


def test_which_status_change_an_admin_may_make_is_one_rule(app, users, muni, partner_org):
    from opplevelseskort.core.errors import DomainError
    from opplevelseskort.partners import services
    from opplevelseskort.partners.models import PartnerStatus

    assert services.status_actions(partner_org) == ("suspend",)
    with pytest.raises(DomainError):  # an approved partner is suspended, not rejected
        services.reject_partner(partner_org, "Nei", actor=users["admin"])
    services.suspend_partner(partner_org, "", actor=users["admin"])
    assert services.status_actions(partner_org) == ("approve",)
    for status, allowed in services.STATUS_ACTIONS.items():
        partner_org.status = status
        assert services.status_actions(partner_org) == allowed
    assert set(services.STATUS_ACTIONS) == set(PartnerStatus)


def test_places_left_expired_tokens_and_overdue_loans_are_answered_by_the_models(app, users, muni):
    from opplevelseskort.accounts import tokens
    from opplevelseskort.core.clock import today
    from opplevelseskort.partners.models import Occasion
    from utstyr.overview import FamilyLoanLine

    assert Occasion(capacity=None, booked=0).places_left is None
    assert Occasion(capacity=10, booked=9).places_left == 1
    assert Occasion(capacity=10, booked=10).places_left == 0
    token, _raw = tokens.create_token(users["partner"], "x", days=30)
    assert not token.is_expired
    token.expires_at = token.created_at - timedelta(seconds=1)
    assert token.is_expired
    on = today()
    assert FamilyLoanLine("Ski", "BUA", on - timedelta(days=1), None).overdue
    assert not FamilyLoanLine("Ski", "BUA", on, None).overdue  # due today: not late yet
    assert not FamilyLoanLine("Ski", "BUA", on - timedelta(days=1), date(2026, 1, 1)).overdue  # returned


def test_a_child_with_an_unrevoked_card_gets_no_second_one_offered(app, client, login_as, muni, users, zone_set):
    from opplevelseskort.cards import services as cards

    from .factories import make_card

    card = make_card(muni, users, "Ola")
    child = card.child
    assert child.has_unrevoked_card
    login_as("caseworker")
    page = client.get(f"/husstand/{child.household_id}").text
    assert f"/barn/{child.id}/kort" not in page
    cards.revoke_card(card, "lost", actor=users["caseworker"])
    assert not child.has_unrevoked_card
    assert f"/barn/{child.id}/kort" in client.get(f"/husstand/{child.household_id}").text
