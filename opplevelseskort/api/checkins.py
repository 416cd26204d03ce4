"""API endpoints: check-ins and card validity (partner tokens)."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from flask_babel import gettext as _
from pydantic import Field

from ..accounts.permissions import scope_required
from ..checkin import offline, services
from ..checkin.models import CheckinSource
from ..checkin.services import ERROR_CODES
from ..core.errors import DomainError, NotFound
from ..core.guards import MAX_DB_INT as MAX_ID  # integer primary keys: larger numbers name no row
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refused
from ..core.validation import Integer
from .schema import Answer, Response, Schema, Text, operation
from .views import bp


class CheckinBody(Schema):
    code: Text = Field(min_length=1, description="The card URL from the QR, the QR token or the short code")
    offer_id: Integer
    companions: Integer = Field(0, ge=0, le=20)


class CheckInOut(Response):
    id: int
    offer_id: int
    at: str = Field(json_schema_extra={"format": "date-time"})
    companions: int = Field(ge=0)
    companions_allowed: int = Field(ge=0)
    source: str
    given_name: str
    birth_year: int | None
    repeat: bool


class CardValidity(Response):
    valid: bool
    status: Literal["active", "expired", "not_yet_valid", "revoked"]
    valid_until: str = Field(json_schema_extra={"format": "date"})
    companions: int
    given_name: str | None
    birth_year: int | None
    money_available_ore: int | None = Field(description="Activity money the child has left, for a partner on the "
                                                        "money register (never the scheme or why)")


def checkin_json(c, given_name: str, companions_allowed: int, repeat: bool) -> dict:
    return CheckInOut(id=c.id, offer_id=c.offer_id, at=c.at.isoformat(), companions=c.companions,
                      companions_allowed=companions_allowed, source=str(c.source), given_name=given_name,
                      birth_year=c.birth_year, repeat=repeat).model_dump()


@bp.post("/checkins")
@roles_required(Role.PARTNER)
@scope_required("checkin")
@operation("Record a check-in (partner tokens)", operation_id="createCheckin", body=CheckinBody, responses={
    201: Answer("A new check-in", CheckInOut),
    200: Answer("A repeat inside the window: the earlier check-in", CheckInOut),
    404: Answer("Unknown offer", codes=["offer_not_found", "not_found"]),
    422: Answer("Refused by a rule, or a body that does not fit", codes=[*ERROR_CODES, "invalid_body"])})
def create_checkin(body: CheckinBody):
    """201 for a new check-in, 200 with the existing one for a repeat inside the window, 422 with a code."""
    if not body.code.strip():
        raise DomainError("invalid_body", _("«%(field)s» kan ikke være tom.", field="code"))
    if not 1 <= body.offer_id <= MAX_ID:
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    me = current_actor()
    offer = services.get_offer_for(me, body.offer_id)
    with refused(status=422):  # for a check-in an unknown card is a refusal like the others: 422 with its code
        result = services.record_checkin(body.code, offer, actor=me, companions=body.companions,
                                         source=CheckinSource.API)
    out = checkin_json(result.visit, result.child.given_name or "", result.companions_allowed, not result.created)
    return jsonify(out), (201 if result.created else 200)


@bp.get("/cards/<path:code>")
@roles_required(Role.PARTNER)
@scope_required("cards:read")
@operation("Whether a card is valid now (partner tokens)", operation_id="cardValidity",
           params={"code": {"schema": {"type": "string"}, "description": "The card URL, QR token or short code"}},
           responses={200: Answer("Validity", CardValidity),
                      404: Answer("Unknown card", codes=["card_unknown", "not_found"])})
def card_validity(code: str):
    """Whether a card is valid now (for a partner), without recording anything."""
    return jsonify(CardValidity(**services.card_validity(code, actor=current_actor())).model_dump())


class OfflineBatchBody(Schema, offline.BatchIn):
    """A scanner's queued scans (checkin.offline.BatchIn)."""


class OfflineVerdict(Response):
    event_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    reason: str | None = Field(description="Why it was rejected: " + ", ".join(offline.REASONS))
    message: str | None
    flags: list[str] = Field(description="What the server found that the door could not know")
    checkin_id: int | None = Field(description="The counted visit (for a duplicate: the one it duplicates)")


class OfflineSyncOut(Response):
    server_time: str = Field(json_schema_extra={"format": "date-time"})
    results: list[OfflineVerdict]


@bp.post("/checkins/offline")
@roles_required(Role.PARTNER)
@scope_required("checkin")
@operation("Sync scans made without a network (partner tokens)", operation_id="syncOfflineCheckins",
           body=OfflineBatchBody, responses={
               200: Answer("One verdict per event, in the batch's order", OfflineSyncOut),
               403: Answer("The partner is not approved", codes=["partner_inactive"]),
               422: Answer("A body that does not fit, or too many events", codes=["invalid_body", "too_many_events"])})
def sync_offline(body: OfflineBatchBody):
    """Idempotent on each event id and independent of the order events arrive in: each visit (card, offer, local
    day) counts once, the other scans of it are kept as duplicates; what the door could not know is flagged."""
    return jsonify(OfflineSyncOut(**offline.sync_batch(body, actor=current_actor())).model_dump())
