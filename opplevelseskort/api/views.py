"""The JSON API. Authenticated by bearer tokens only (never the session cookie), so CSRF cannot reach it."""

from __future__ import annotations

import json

from flask import Blueprint, abort, g, jsonify
from flask_login import current_user

from ..core.errors import DomainError
from ..core.guards import json_error  # the API's error body, shared with the edge handlers
from ..core.permissions import ALL_STAFF, roles_required

bp = Blueprint("api", __name__)

@bp.before_request
def _token_only():
    # A browser session must not drive the API: only a bearer token counts here.
    if current_user.is_authenticated and not g.get("token_auth"):
        abort(401)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    # the unit of work has rolled back already (core/uow.py)
    status = exc.status if exc.status in (403, 404, 409, 422) else 422
    resp = json_error(status, exc.code, exc.message)
    if "unit" in exc.details:  # which scanned unit was refused, for the desk to put it aside
        resp.set_data(json.dumps({**resp.get_json(), "unit": exc.details["unit"]}))
    return resp


@bp.get("/me")
@roles_required(*ALL_STAFF)
def me():
    """Who the token belongs to: a cheap way for an integration to test its token."""
    return jsonify({"id": current_user.id, "email": current_user.email, "role": str(current_user.role),
                    "municipality_id": current_user.municipality_id, "partner_id": current_user.partner_id})


# Each area's endpoints live in their own module and register on this blueprint.
from . import checkins, loans, openapi, reports  # noqa: E402,F401
