"""One mechanism for access: a role decorator for views, and can_* checks for objects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import login_manager
from .clock import utcnow
from .guards import json_error
from .models import Role, User

ALL_STAFF = tuple(Role)


def roles_required(*roles: Role):
    """Allow the view only to logged-in users (session or API token) holding one of `roles`.

    Anonymous users are sent to the login page (or get 401 on the API); the wrong role gets 403.
    """
    allowed = {Role(r) for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_actor()
            if not user.is_authenticated:
                if request.blueprint == "api":
                    abort(401)

                return login_manager.unauthorized()
            if user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # introspected by the access-control tests
        return wrapped

    return decorator


def current_actor() -> User:
    """The signed-in user itself, not Flask-Login's proxy: every attribute read through the proxy costs a context
    look-up, and a service reads the actor's role and id many times (the door's hot path passes this)."""
    return current_user._get_current_object()


def is_api_request() -> bool:
    return bool(g.get("token_auth"))


def can_access_municipality(user: User, municipality_id: int | None) -> bool:
    """Staff see their own municipality; an admin without one sees every municipality."""
    if user.role == Role.ADMIN and user.municipality_id is None:
        return True
    return municipality_id is not None and user.municipality_id == municipality_id


def can_manage_user(actor: User, target: User) -> bool:
    return actor.role == Role.ADMIN and (
        actor.municipality_id is None or target.municipality_id == actor.municipality_id
    )


def private_page(resp):
    """A page reached through a secret link (the family's card): not indexed, not cached, no referrer."""
    resp.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    resp.headers["Cache-Control"] = "private, no-store"
    g.referrer_policy = "no-referrer"
    return resp


def scope_to_municipality(query, column, user: User):
    """Limit a select() to the rows of the user's municipality (no-op for an unrestricted admin)."""
    if user.role == Role.ADMIN and user.municipality_id is None:
        return query
    return query.where(column == user.municipality_id)


def fresh_login_required(view: Callable) -> Callable:
    """Exporting or deleting a household's data needs the password given within FRESH_LOGIN_MINUTES: otherwise
    the user confirms it first and comes back (to the page, or, after a form, to the page the form was on)."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if utcnow().timestamp() - session.get("auth_at", 0) <= current_app.config["FRESH_LOGIN_MINUTES"] * 60:
            return view(*args, **kwargs)
        back = request.full_path if request.method == "GET" else _local(request.referrer)
        return redirect(url_for("core.reauthenticate", next=back if back and back.startswith("/") else None))
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

