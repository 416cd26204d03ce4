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
