"""API endpoints that move activity money (partner tokens). Each takes an `Idempotency-Key`: the same key and body
replay the stored answer (the money moves once), the same key with another body is 422, no key is 400."""

from __future__ import annotations

import re

from flask import jsonify, request
from flask_babel import gettext as _
from pydantic import Field

from ..accounts.permissions import scope_required
from ..core.errors import NotFound
from ..core.guards import json_error
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.validation import Integer
from ..money import services as money
from .schema import Answer, Response, Schema, operation
from .views import bp

KEY_HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class SettleBody(Schema):
    amount_ore: Integer = Field(0, ge=0, le=10**11, description="Less than reserved when the partner delivered "
                                                               "less; 0 or left out: the whole reservation")


class SettleOut(Response):
    reservation_id: int
    status: str
    amount_ore: int = Field(description="What was reserved")
    settled_ore: int = Field(description="What the partner is owed")


@bp.post("/money/reservations/<int:reservation_id>/settle")
@roles_required(Role.PARTNER)
@scope_required("checkin")
@operation("Settle a reservation of activity money: the partner delivered (partner tokens)",
           operation_id="settleReservation", body=SettleBody, body_required=False,
           params={"reservation_id": {"schema": {"type": "integer"}, "description": "The reservation"},
                   KEY_HEADER: {"in": "header", "schema": {"type": "string", "pattern": KEY_PATTERN.pattern},
                                "description": "Made by the caller, one per intended settlement"}},
           responses={200: Answer("Settled (or the stored answer to the same key and body)", SettleOut),
                      400: Answer("No Idempotency-Key", codes=["idempotency_key_missing"]),
                      404: Answer("Not this partner's reservation", codes=["reservation_unknown", "not_found"]),
                      409: Answer("Settled or voided already", codes=["reservation_resolved"]),
                      422: Answer("Another body under the same key, or an amount that does not fit",
                                  codes=["idempotency_key_reused", "amount_invalid", "invalid_body"])})
def settle_reservation(reservation_id: int, body: SettleBody):
    """The partner delivered: the amount (or all that was reserved) is owed to the partner, the rest released."""
    key = request.headers.get(KEY_HEADER) or ""
    if not KEY_PATTERN.fullmatch(key):
        return json_error(400, "idempotency_key_missing", _("Send en Idempotency-Key (høyst 100 tegn)."))
    me = current_actor()
    call = {"reservation_id": reservation_id, **body.model_dump()}
    stored = money.replay(me.id, key, call)
    if stored is not None:
        return jsonify(stored[1]), stored[0]
    if not money.reservation_is_partners(reservation_id, me):
        raise NotFound("reservation_unknown", _("Fant ikke reservasjonen."))
    reservation = money.settle(reservation_id, body.amount_ore or None, actor=me)
    out = SettleOut(reservation_id=reservation.id, status=str(reservation.status), amount_ore=reservation.amount,
                    settled_ore=reservation.settled_amount).model_dump()
    money.remember(me.id, key, call, 200, out)
    return jsonify(out)
