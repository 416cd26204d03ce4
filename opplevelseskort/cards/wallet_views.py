"""Pages and endpoints of the card in the phone's wallet (cards.wallet), on the cards blueprint: Apple's update web
service (called by the devices themselves: no session, no CSRF token, the pass's own token) and the admin page
that says what each wallet still lacks."""

from __future__ import annotations

import logging
from email.utils import format_datetime, parsedate_to_datetime

from flask import Response, jsonify, render_template, request

from ..core import municipalities
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refused
from ..extensions import csrf, limiter
from . import wallet
from .views import bp

log = logging.getLogger(__name__)
PKPASS = "application/vnd.apple.pkpass"
APPLE = "/lommebok/apple/v1"


def _device_pass(pass_type_id: str, serial: str):
    """The pass, or the answer Apple's spec gives: 404 for an unknown pass, 401 for a wrong token."""
    try:
        with refused(not_found=True):
            return wallet.device_pass(pass_type_id, serial, request.headers.get("Authorization")), None
    except PermissionError:
        return None, Response(status=401)


@bp.post(APPLE + "/devices/<device_id>/registrations/<pass_type_id>/<serial>")
@csrf.exempt
@limiter.limit(lambda: "60 per minute")
def apple_register(device_id: str, pass_type_id: str, serial: str):
    """A device registers for a pass's updates: 201 the first time, 200 after (idempotent)."""
    found, refusal = _device_pass(pass_type_id, serial)
    if refusal:
        return refusal
    push_token = str((request.get_json(silent=True) or {}).get("pushToken") or "")
    return Response(status=201 if wallet.register(device_id, found, push_token) else 200)


@bp.delete(APPLE + "/devices/<device_id>/registrations/<pass_type_id>/<serial>")
@csrf.exempt
def apple_unregister(device_id: str, pass_type_id: str, serial: str):
    found, refusal = _device_pass(pass_type_id, serial)
    if refusal:
        return refusal
    wallet.unregister(device_id, found)
    return Response(status=200)


@bp.get(APPLE + "/devices/<device_id>/registrations/<pass_type_id>")
@limiter.limit(lambda: "60 per minute")
def apple_changed(device_id: str, pass_type_id: str):
    """The serials of the device's passes changed since `passesUpdatedSince`, and `lastUpdated` (a string)."""
    serials, tag = wallet.changed_serials(device_id, pass_type_id, request.args.get("passesUpdatedSince"))
    if not serials:
        return Response(status=204)
    return jsonify({"serialNumbers": serials, "lastUpdated": tag})


@bp.get(APPLE + "/passes/<pass_type_id>/<serial>")
@limiter.limit(lambda: "60 per minute")
def apple_latest(pass_type_id: str, serial: str):
    """The pass as it is now; 304 when it has not changed since `If-Modified-Since`."""
    found, refusal = _device_pass(pass_type_id, serial)
    if refusal:
        return refusal
    since = request.headers.get("If-Modified-Since")
    try:
        unchanged = since and int(found.updated_at.timestamp()) <= int(parsedate_to_datetime(since).timestamp())
    except (TypeError, ValueError):
        unchanged = False
    if unchanged:
        return Response(status=304)
    data, _pass = wallet.apple_pass(wallet.card_of(found))
    return Response(data, mimetype=PKPASS, headers={"Last-Modified": format_datetime(found.updated_at, usegmt=True)})


@bp.post(APPLE + "/log")
@csrf.exempt
@limiter.limit(lambda: "30 per minute")
def apple_log():
    """What devices report of problems with passes (logged, bounded)."""
    for line in list((request.get_json(silent=True) or {}).get("logs") or [])[:20]:
        log.warning("Apple Wallet: %s", str(line)[:300])
    return Response(status=200)


for _view in (apple_register, apple_unregister, apple_changed, apple_latest, apple_log):
    _view.public = True  # the devices call these; a pass's own token guards each


@bp.get("/admin/lommebok")
@roles_required(Role.ADMIN)
def wallet_status():
    """Per municipality: whether Apple Wallet and Google Wallet are on, and what each still lacks."""
    rows = [(m, wallet.missing(m.id)) for m in municipalities.municipalities_for(current_actor())]
    return render_template("cards/wallet_status.html", rows=rows)
