"""Partner organisations (clubs, businesses, volunteer groups, municipal services)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.hours import OpeningHours, OpeningHoursType
from ..core.models import Municipality
from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db
from ..zones.models import Zone


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



class PartnerMember(db.Model):
    """The partner organisation a partner user works for (one each). Kept here, not on core's user: core knows
    no part above it."""

    __tablename__ = "partner_member"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)

class OfferCategory(enum.StrEnum):
    SPORT = "sport"
    CULTURE = "culture"
    OUTDOOR = "outdoor"
    SWIMMING = "swimming"
    CINEMA = "cinema"
    EVENTS = "events"
    HOLIDAY_ACTIVITY = "holiday_activity"
    OTHER = "other"


class OfferStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    ENDED = "ended"


class LimitPeriod(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    PERIOD = "period"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    RELEASED = "released"


class Offer(db.Model):
    __tablename__ = "offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Other languages: {"en": {"title": ..., "description": ...}, ...}; bokmål above is the fallback.
    translations: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    category: Mapped[OfferCategory] = mapped_column(enum_type(OfferCategory, 20))
    age_min: Mapped[int] = mapped_column(sa.Integer, default=0)
    age_max: Mapped[int] = mapped_column(sa.Integer, default=18)
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"), index=True)
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    opening_hours: Mapped[OpeningHours] = mapped_column(OpeningHoursType, nullable=True, default=OpeningHours)
    companions_allowed: Mapped[int] = mapped_column(sa.Integer, default=1)
    price_nok: Mapped[int] = mapped_column(sa.Integer, default=0)
    use_limit: Mapped[int | None] = mapped_column(sa.Integer)
    use_limit_period: Mapped[LimitPeriod] = mapped_column(enum_type(LimitPeriod, 10), default=LimitPeriod.PERIOD)
    requires_booking: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    has_image: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    status: Mapped[OfferStatus] = mapped_column(enum_type(OfferStatus, 10), default=OfferStatus.DRAFT, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()
    zone: Mapped[Zone | None] = relationship()
    occasions: Mapped[list[Occasion]] = relationship(back_populates="offer", order_by="Occasion.starts_at",
                                                     cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("age_min >= 0 AND age_max >= age_min", name="age_range"),
        sa.CheckConstraint("end_date >= start_date", name="period"),
        sa.CheckConstraint("price_nok >= 0 AND companions_allowed >= 0", name="non_negative"),
    )

    def text(self, locale: str) -> tuple[str, str]:
        """Title and description in the reader's language, falling back to bokmål."""
        t = (self.translations or {}).get((locale or "nb").split("_")[0]) or {}
        return (t.get("title") or self.title, t.get("description") or self.description)


class Occasion(db.Model):
    """A dated occasion of an offer, optionally with limited places that must be booked."""

    __tablename__ = "occasion"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column(sa.Integer)
    booked: Mapped[int] = mapped_column(sa.Integer, default=0)

    offer: Mapped[Offer] = relationship(back_populates="occasions")

    __table_args__ = (
        # The database itself refuses more bookings than places.
        sa.CheckConstraint("capacity IS NULL OR (booked >= 0 AND booked <= capacity)", name="within_capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="period"),
    )

    @property
    def places_left(self) -> int | None:
        """Free places on an occasion with limited places (0: full, the waiting list is next); None: no limit."""
        return None if self.capacity is None else max(0, self.capacity - (self.booked or 0))


class Booking(db.Model):
    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    occasion_id: Mapped[int] = mapped_column(sa.ForeignKey("occasion.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("card.id", ondelete="SET NULL"))
    status: Mapped[BookingStatus] = mapped_column(enum_type(BookingStatus, 12), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    booked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # When the child got a place (booked at once, or moved up from the waiting list): a child moved up
    # after the occasion started is not a no-show of that start.
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    occasion: Mapped[Occasion] = relationship()

    __table_args__ = (
        # A child holds at most one live booking (booked or waiting) per occasion.
        sa.Index("uq_booking_live_per_child", "occasion_id", "child_id", unique=True,
                 sqlite_where=sa.text("status IN ('booked', 'waitlisted')"),
                 postgresql_where=sa.text("status IN ('booked', 'waitlisted')")),
    )
