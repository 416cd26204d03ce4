"""Column types shared by every part's models."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class Actor(Protocol):
    """Who acts, as core sees them: a staff account (accounts.models.User) without core importing it."""

    id: int
    email: str
    role: str
    municipality_id: int | None


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (used as a column default callable)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the zone; we put it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """Store a StrEnum by its value as a plain string (no native DB enum, easy migrations), with a CHECK
    constraint so the database itself refuses a value the enum does not have (named ck_<table>_<enum>)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", enum_cls.__name__).lower()
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        name=name,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )
