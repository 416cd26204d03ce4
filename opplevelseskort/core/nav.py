"""The main menu and the dashboard's figures. Each part's views module lists its entries as data (`MENU`,
`COUNTS`); the app factory hands them to `init_app`, so what a role sees is wired in one visible place."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .models import Role

_KEY = "opplevelseskort.nav"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    roles: frozenset
    order: int = 50
    group: str | None = None
    public: bool = False


@dataclass(frozen=True)
class Count:
    label: object  # a lazy string
    roles: frozenset
    compute: Callable  # (user) -> int
    endpoint: str
    order: int = 50


# The staff menu's top level: each entry a group of pages (a disclosure when a role sees more than one of them).
GROUPS = {
    "cards": (_l("Barn og kort"), 20), "offers": (_l("Tilbud og besøk"), 10), "equipment": (_l("Utstyr"), 12),
    "reports": (_l("Rapporter"), 70), "admin": (_l("Administrasjon"), 80), "account": (_l("Min konto"), 90),
}


def item(endpoint: str, label, roles=(), *, public: bool = False, order: int = 50, group: str | None = None) -> NavItem:
    """A menu entry: the roles that see it in the staff menu, or `public` for the menu of everyone."""
    if group is not None and group not in GROUPS:
        raise ValueError(f"unknown menu group {group!r}")
    return NavItem(endpoint, label, frozenset(Role(r) for r in roles), order, group, public)


def count(label, roles, compute: Callable, *, endpoint: str, order: int = 50) -> Count:
    """A figure for the dashboard ("check-ins today", "applications waiting"), computed for the user."""
    return Count(label, frozenset(Role(r) for r in roles), compute, endpoint, order)


def init_app(app: Flask, items: Iterable[NavItem], counts: Iterable[Count]) -> None:
    """The menu and the dashboard figures of this app (called once, by the factory)."""
    items, counts = list(items), list(counts)
    missing = [x.endpoint for x in [*items, *counts] if x.endpoint not in app.view_functions]
    if missing:
        raise ValueError(f"menu entries for unknown pages: {missing}")
    app.extensions[_KEY] = (items, counts)


def _items() -> list[NavItem]:
    return current_app.extensions.get(_KEY, ([], []))[0]


def _counts() -> list[Count]:
    return current_app.extensions.get(_KEY, ([], []))[1]


def staff_items() -> list[dict]:
    """The user's menu: groups of pages, a group seen with one page only being that page."""
    if not current_user.is_authenticated:
        return []
    entries: list[tuple[int, dict]] = []
    groups: dict[str, list[NavItem]] = {}
    for i in sorted(_items(), key=lambda i: i.order):
        if i.public or current_user.role not in i.roles:
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


def shortcuts() -> list[dict]:
    """Every page of the user's menu, groups opened out (the dashboard's tiles: each one a link)."""
    if not current_user.is_authenticated:
        return []
    return [{"url": url_for(i.endpoint), "label": i.label}
            for i in sorted(_items(), key=lambda i: i.order) if not i.public and current_user.role in i.roles]


def public_items() -> list[dict]:
    return [{"url": url_for(i.endpoint), "label": i.label}
            for i in sorted((i for i in _items() if i.public), key=lambda i: i.order)]


def dashboard_counts() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    user = current_user._get_current_object()
    return [{"label": c.label, "value": c.compute(user), "url": url_for(c.endpoint)}
            for c in sorted(_counts(), key=lambda c: c.order) if user.role in c.roles]
