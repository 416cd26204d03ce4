"""One mechanism for access: a role decorator for views, and can_* checks for objects."""

from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from ..extensions import login_manager
from .models import Role
from .types import Actor

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


def current_actor() -> Actor:
    """The signed-in user itself, not Flask-Login's proxy: every attribute read through the proxy costs a context
    look-up, and a service reads the actor's role and id many times (the door's hot path passes this)."""
    return current_user._get_current_object()


def is_api_request() -> bool:
    return bool(g.get("token_auth"))


def can_access_municipality(user: Actor, municipality_id: int | None) -> bool:
    """Staff see their own municipality; an admin without one sees every municipality."""
    if user.role == Role.ADMIN and user.municipality_id is None:
        return True
    return municipality_id is not None and user.municipality_id == municipality_id


def private_page(resp):
    """A page reached through a secret link (the family's card): not indexed, not cached, no referrer."""
    resp.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    resp.headers["Cache-Control"] = "private, no-store"
    g.referrer_policy = "no-referrer"
    return resp


def scope_to_municipality(query, column, user: Actor):
    """Limit a select() to the rows of the user's municipality (no-op for an unrestricted admin)."""
    if user.role == Role.ADMIN and user.municipality_id is None:
        return query
    return query.where(column == user.municipality_id)

