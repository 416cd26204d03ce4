"""The main menu: each part registers its entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    roles: frozenset
    order: int = 50
    group: str | None = None


# The staff menu's top level: each entry a group of pages (a disclosure when a role sees more than one of them).
GROUPS = {
    "cards": (_l("Barn og kort"), 20), "offers": (_l("Tilbud og besøk"), 10), "equipment": (_l("Utstyr"), 12),
    "reports": (_l("Rapporter"), 70), "admin": (_l("Administrasjon"), 80), "account": (_l("Min konto"), 90),
}

_STAFF: list[NavItem] = []
_PUBLIC: list[NavItem] = []


def register(endpoint: str, label, roles=None, *, public: bool = False, order: int = 50,
             group: str | None = None) -> None:
    if group is not None and group not in GROUPS:
        raise ValueError(f"unknown menu group {group!r}")
    item = NavItem(endpoint, label, frozenset(Role(r) for r in (roles or ())), order, group)
    target = _PUBLIC if public else _STAFF
    if all(i.endpoint != endpoint for i in target):
        target.append(item)


def staff_items() -> list[dict]:
    """The user's menu: groups of pages, a group seen with one page only being that page."""
    if not current_user.is_authenticated:
        return []
    entries: list[tuple[int, dict]] = []
    groups: dict[str, list[NavItem]] = {}
    for i in sorted(_STAFF, key=lambda i: i.order):
        if current_user.role not in i.roles:
            continue
        if i.group is None:
            entries.append((i.order, {"url": url_for(i.endpoint), "label": i.label}))
        else:
            groups.setdefault(i.group, []).append(i)
    for key, items in groups.items():
        label, order = GROUPS[key]
        links = [{"url": url_for(i.endpoint), "label": i.label} for i in items]
        entries.append((order, links[0] if len(links) == 1 else {"label": label, "children": links, "key": key}))
    return [e for _o, e in sorted(entries, key=lambda e: e[0])]


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
