"""Which municipality a request is about: one resolver for every page, public or staff.

Order: the logged-in user's own municipality; the host name (MUNICIPALITY_HOSTS, for a shared deployment with
one address per municipality); DEFAULT_MUNICIPALITY; the visitor's own choice on /kommune (kept in the
session); the only municipality there is. None when it cannot be known: the caller sends the visitor to choose.
"""

from __future__ import annotations

from flask import current_app, has_request_context, redirect, request, session, url_for
from flask_login import current_user

from ..extensions import db
from .models import Municipality

SESSION_KEY = "municipality"


def _by_number(number: str | None) -> Municipality | None:
    if not number:
        return None
    return db.session.scalar(db.select(Municipality).where(Municipality.number == number))


def current_municipality() -> Municipality | None:
    """The municipality of this request, or None when it has to be chosen."""
    if has_request_context():
        if current_user.is_authenticated and current_user.municipality_id is not None:
            return db.session.get(Municipality, current_user.municipality_id)
        host = (request.host or "").split(":")[0].lower()
        found = _by_number(current_app.config.get("MUNICIPALITY_HOSTS", {}).get(host))
        if found is not None:
            return found
    found = _by_number(current_app.config.get("DEFAULT_MUNICIPALITY"))
    if found is not None:
        return found
    if has_request_context():
        found = _by_number(session.get(SESSION_KEY))
        if found is not None:
            return found
    only = db.session.scalars(db.select(Municipality).limit(2)).all()
    return only[0] if len(only) == 1 else None


def municipality_or_choose():
    """(municipality, None), or (None, a redirect to /kommune that comes back here) when it must be chosen."""
    muni = current_municipality()
    if muni is None:
        return None, redirect(url_for("core.choose_municipality", next=request.full_path.rstrip("?")))
    return muni, None


def choose_municipality(number: str) -> Municipality | None:
    """Remember the visitor's choice (for an unrestricted admin, the municipality they work in now)."""
    found = _by_number(number)
    if found is not None:
        session[SESSION_KEY] = found.number
    return found


def all_municipalities() -> list[Municipality]:
    return list(db.session.scalars(db.select(Municipality).order_by(Municipality.name)))
