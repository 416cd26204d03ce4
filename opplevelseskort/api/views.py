"""The JSON API. Authenticated by bearer tokens only (never the session cookie), so CSRF cannot reach it."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify
from flask_login import current_user

from ..core.errors import DomainError
from ..core.guards import json_error  # the API's error body, shared with the edge handlers
from ..core.permissions import ALL_STAFF, roles_required
from ..partners.services import partner_id_of
from .schema import Answer, Response, operation

bp = Blueprint("api", __name__)


@bp.before_request
def _token_only():
    # A browser session must not drive the API: only a bearer token counts here.
    if current_user.is_authenticated and not g.get("token_auth"):
        abort(401)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    if exc.status == 202:  # accepted, not refused: the figures are being made (reports.store.PublicationPending)
        response = json_error(202, exc.code, exc.message)
        response.headers["Retry-After"] = "10"
        return response
    # the unit of work has rolled back already (core/uow.py)
    status = exc.status if exc.status in (403, 404, 409, 422) else 422
    # which field was wrong (invalid_body), which scanned unit was refused (a loan): for the integration to act on
    extra = {k: exc.details[k] for k in ("fields", "unit") if k in exc.details}
    return json_error(status, exc.code, exc.message, **extra)


class Me(Response):
    id: int
    email: str
    role: str
    municipality_id: int | None
    partner_id: int | None


@bp.get("/me")
@roles_required(*ALL_STAFF)
@operation("The token's user", operation_id="me", responses={200: Answer("The user", Me)})
def me():
    """Who the token belongs to: a cheap way for an integration to test its token."""
    return jsonify(Me(id=current_user.id, email=current_user.email, role=str(current_user.role),
                      municipality_id=current_user.municipality_id, partner_id=partner_id_of(current_user)).model_dump())


# Each area's endpoints live in their own module and register on this blueprint.
from . import checkins, loans, money, ogc, openapi, reports  # noqa: E402,F401
