"""Check-ins: one row per counted visit of a card at an offer."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db


class CheckinSource(enum.StrEnum):
    CAMERA = "camera"
    TYPED = "typed"
    LINK = "link"
    API = "api"


class CheckIn(db.Model):
    """A visit. Zone, age and birth year are copied at the moment of the visit so reports stay right
    after a family moves, and so they survive the child's anonymisation."""

    __tablename__ = "checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("card.id", ondelete="SET NULL"), index=True)
    child_id: Mapped[int | None] = mapped_column(sa.ForeignKey("child.id", ondelete="SET NULL"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    occasion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("occasion.id", ondelete="SET NULL"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    companions: Mapped[int] = mapped_column(sa.Integer, default=0)
    source: Mapped[CheckinSource] = mapped_column(enum_type(CheckinSource, 10))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"), index=True)
    age: Mapped[int | None] = mapped_column(sa.Integer)
    birth_year: Mapped[int | None] = mapped_column(sa.Integer)
    gender: Mapped[str | None] = mapped_column(sa.String(16))
    value_nok: Mapped[int] = mapped_column(sa.Integer, default=0)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(sa.Text)

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])

    __table_args__ = (
        sa.CheckConstraint("companions >= 0", name="companions_not_negative"),
        sa.Index("ix_checkin_card_offer_at", "card_id", "offer_id", "at"),
    )

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None
