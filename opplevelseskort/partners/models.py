"""Partner organisations (clubs, businesses, volunteer groups, municipal services)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Municipality, Zone
from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db


class PartnerStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class PartnerKind(enum.StrEnum):
    CLUB = "club"
    BUSINESS = "business"
    VOLUNTEER_GROUP = "volunteer_group"
    MUNICIPAL = "municipal"


class Partner(db.Model):
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    org_number: Mapped[str | None] = mapped_column(sa.String(9), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(enum_type(PartnerKind, 20), default=PartnerKind.CLUB)
    status: Mapped[PartnerStatus] = mapped_column(enum_type(PartnerStatus, 12), default=PartnerStatus.PENDING)
    contact_name: Mapped[str] = mapped_column(sa.String(200), default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(32), default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"))
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped[Municipality] = relationship()
    zone: Mapped[Zone | None] = relationship()
