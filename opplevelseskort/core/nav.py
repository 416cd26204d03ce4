"""The main menu: each part registers its entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_login import current_user

from .models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    roles: frozenset
    order: int = 50


_STAFF: list[NavItem] = []
_PUBLIC: list[NavItem] = []


def register(endpoint: str, label, roles=None, *, public: bool = False, order: int = 50) -> None:
    item = NavItem(endpoint, label, frozenset(Role(r) for r in (roles or ())), order)
    target = _PUBLIC if public else _STAFF
    if all(i.endpoint != endpoint for i in target):
        target.append(item)


def staff_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    return [{"url": url_for(i.endpoint), "label": i.label}
            for i in sorted(_STAFF, key=lambda i: i.order) if current_user.role in i.roles]


def public_items() -> list[dict]:
    return [{"url": url_for(i.endpoint), "label": i.label} for i in sorted(_PUBLIC, key=lambda i: i.order)]


@dataclass(frozen=True)
class Count:
    label: object  # a lazy string
    roles: frozenset
    compute: object  # (user) -> int
    endpoint: str
    order: int = 50


_COUNTS: list[Count] = []


def register_count(label, roles, compute, *, endpoint: str, order: int = 50) -> None:
    """A figure for the dashboard ("check-ins today", "applications waiting"), computed for the user."""
    if all(c.label != label for c in _COUNTS):
        _COUNTS.append(Count(label, frozenset(Role(r) for r in roles), compute, endpoint, order))


def dashboard_counts() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    user = current_user._get_current_object()
    return [{"label": c.label, "value": c.compute(user), "url": url_for(c.endpoint)}
            for c in sorted(_COUNTS, key=lambda c: c.order) if user.role in c.roles]
