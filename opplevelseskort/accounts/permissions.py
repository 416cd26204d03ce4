"""What only signed-in staff have: managing users, a fresh password, an API token's scopes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _

from ..core.clock import utcnow
from ..core.guards import json_error
from ..core.models import Role
from .models import User


def can_manage_user(actor: User, target: User) -> bool:
    return actor.role == Role.ADMIN and (
        actor.municipality_id is None or target.municipality_id == actor.municipality_id
    )


def fresh_login_required(view: Callable) -> Callable:
    """Exporting or deleting a household's data needs the password given within FRESH_LOGIN_MINUTES: otherwise
    the user confirms it first and comes back (to the page, or, after a form, to the page the form was on)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if utcnow().timestamp() - session.get("auth_at", 0) <= current_app.config["FRESH_LOGIN_MINUTES"] * 60:
            return view(*args, **kwargs)
        back = request.full_path if request.method == "GET" else _local(request.referrer)
        return redirect(url_for("accounts.reauthenticate", next=back if back and back.startswith("/") else None))
    for attr in ("allowed_roles",):  # the access matrix reads what the inner decorator declared
        if hasattr(view, attr):
            setattr(wrapped, attr, getattr(view, attr))
    return wrapped


def _local(url: str | None) -> str | None:
    """A referrer as a path on this site (or None)."""
    if not url:
        return None
    parts = urlsplit(url)
    return (parts.path + (f"?{parts.query}" if parts.query else "")) or None


def scope_required(scope: str):
    """An API endpoint a token reaches only when it was given `scope` (after the role check): 403 naming the scope
    it lacks. A session (the pages) has no scopes to check."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("token_auth") and scope not in g.get("api_token_scopes", ()):
                abort(json_error(403, "scope_missing", _("Nøkkelen har ikke tilgangen «%(scope)s».", scope=scope),
                                 scope=scope))
            return view(*args, **kwargs)

        wrapped.required_scope = scope  # the OpenAPI document and the tests read it
        return wrapped

    return decorator

