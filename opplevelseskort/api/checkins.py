"""API endpoints: check-ins and card validity (partner tokens)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..checkin import services
from ..checkin.models import CheckIn, CheckinSource
from ..core.errors import DomainError, NotFound
from ..core.models import Role
from ..core.permissions import roles_required
from .views import bp

MAX_ID = 2**31 - 1  # integer primary keys; larger numbers cannot name a row


def checkin_json(c: CheckIn, given_name: str, companions_allowed: int) -> dict:
    return {"id": c.id, "offer_id": c.offer_id, "at": c.at.isoformat(), "companions": c.companions,
            "companions_allowed": companions_allowed, "source": str(c.source), "given_name": given_name,
            "birth_year": c.birth_year}


def _integral(value):
    """JSON Schema counts 9.0 as an integer; so do we."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("invalid_body", _("Forespørselen må være et JSON-objekt."))
    return data


@bp.post("/checkins")
@roles_required(Role.PARTNER)
def create_checkin():
    """201 for a new check-in, 200 with the existing one for a repeat inside the window, 422 with a code."""
    data = _json_body()
    code = data.get("code")
    offer_id, companions = _integral(data.get("offer_id")), _integral(data.get("companions", 0))
    if not isinstance(code, str) or not code.strip():
        raise DomainError("invalid_body", _("«code» må være en tekst."))
    if not isinstance(offer_id, int) or isinstance(offer_id, bool):
        raise DomainError("invalid_body", _("«offer_id» må være et heltall."))
    if not isinstance(companions, int) or isinstance(companions, bool) or not 0 <= companions <= 20:
        raise DomainError("invalid_body", _("«companions» må være et heltall."))
    if not 1 <= offer_id <= MAX_ID:
        raise NotFound("offer_not_found", _("Fant ikke tilbudet."))
    offer = services.get_offer_for(current_user, offer_id)
    try:
        result = services.record_checkin(code, offer, actor=current_user, companions=companions,
                                         source=CheckinSource.API)
    except NotFound as exc:
        # For a check-in an unknown card is a refusal like the others: 422 with its code.
        raise DomainError(exc.code, exc.message) from None
    body = checkin_json(result.checkin, result.child.given_name or "", result.companions_allowed)
    body["repeat"] = not result.created
    return jsonify(body), (201 if result.created else 200)


@bp.get("/cards/<path:code>")
@roles_required(Role.PARTNER)
def card_validity(code: str):
    """Whether a card is valid now (for a partner), without recording anything."""
    return jsonify(services.card_validity(code, actor=current_user))
