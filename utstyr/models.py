"""Equipment pool models: locations, item types, units, borrowers, reservations, loans, unmet demand."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opplevelseskort.accounts.models import User
from opplevelseskort.core.clock import today
from opplevelseskort.core.hours import OpeningHours, OpeningHoursType
from opplevelseskort.core.models import Municipality
from opplevelseskort.core.types import UTCDateTime, enum_type, utcnow
from opplevelseskort.extensions import db
from opplevelseskort.zones.models import Zone

volunteer_location = sa.Table(
    "volunteer_location",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("location.id", ondelete="CASCADE"), primary_key=True),
)


class Location(db.Model):
    """A lending central or a school storage room."""

    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"))
    contact: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opening_hours: Mapped[OpeningHours] = mapped_column(OpeningHoursType, nullable=True, default=OpeningHours)
    solo_age: Mapped[int | None] = mapped_column(sa.Integer)
    household_cap: Mapped[int | None] = mapped_column(sa.Integer)
    peak_from: Mapped[date | None] = mapped_column(sa.Date)
    peak_until: Mapped[date | None] = mapped_column(sa.Date)

    municipality: Mapped[Municipality] = relationship()
    zone: Mapped[Zone | None] = relationship()
    volunteers: Mapped[list[User]] = relationship(secondary=volunteer_location)


class ItemCategory(enum.StrEnum):
    SKI = "ski"
    SKATES = "skates"
    BIKE = "bike"
    HELMET = "helmet"
    TENT = "tent"
    SLEEPING_BAG = "sleeping_bag"
    LIFE_JACKET = "life_jacket"
    OTHER = "other"


class UnitCondition(enum.StrEnum):
    GOOD = "good"
    WORN = "worn"
    NEEDS_REPAIR = "needs_repair"


class UnitStatus(enum.StrEnum):
    AVAILABLE = "available"
    ON_LOAN = "on_loan"
    UNCHECKED = "unchecked"  # returned, not yet checked (wet or dirty gear)
    MAINTENANCE = "maintenance"
    RETIRED = "retired"
    LOST = "lost"


class UnitSource(enum.StrEnum):
    DONATION = "donation"
    PURCHASE = "purchase"


class ItemType(db.Model):
    __tablename__ = "item_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    translations: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    category: Mapped[ItemCategory] = mapped_column(enum_type(ItemCategory, 16))
    size: Mapped[str] = mapped_column(sa.String(40), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    default_loan_days: Mapped[int] = mapped_column(sa.Integer, default=7)
    guardian_consent_required: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    kit_items: Mapped[list] = mapped_column(sa.JSON, default=list)
    has_photo: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())

    __table_args__ = (sa.CheckConstraint("default_loan_days > 0", name="loan_days_positive"),
                      sa.UniqueConstraint("municipality_id", "name", "size"))

    def display_name(self, locale: str = "nb") -> str:
        name = (self.translations or {}).get((locale or "nb").split("_")[0]) or self.name
        return f"{name} {self.size}".strip()


class Unit(db.Model):
    """One physical piece of equipment with its own label."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type_id: Mapped[int] = mapped_column(sa.ForeignKey("item_type.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    label_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    condition: Mapped[UnitCondition] = mapped_column(enum_type(UnitCondition, 16), default=UnitCondition.GOOD)
    status: Mapped[UnitStatus] = mapped_column(enum_type(UnitStatus, 16), default=UnitStatus.AVAILABLE, index=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[UnitSource] = mapped_column(enum_type(UnitSource, 10), default=UnitSource.DONATION)
    acquired_on: Mapped[date | None] = mapped_column(sa.Date)
    safety_expires_on: Mapped[date | None] = mapped_column(sa.Date)

    item_type: Mapped[ItemType] = relationship()
    location: Mapped[Location] = relationship()


class BorrowerKind(enum.StrEnum):
    CARD_HOLDER = "card_holder"
    ADULT = "adult"
    CHILD = "child"
    GROUP = "group"


class Borrower(db.Model):
    """Minimal data: a card holder (by card), a responsible adult, a child under an adult, or a group."""

    __tablename__ = "borrower"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    kind: Mapped[BorrowerKind] = mapped_column(enum_type(BorrowerKind, 12))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"))
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("card.id", ondelete="SET NULL"), unique=True)
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("borrower.id", ondelete="CASCADE"))
    birth_year: Mapped[int | None] = mapped_column(sa.Integer)
    guardian_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    responsible: Mapped[Borrower | None] = relationship(remote_side=[id])


class ReservationStatus(enum.StrEnum):
    ACTIVE = "active"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Reservation(db.Model):
    __tablename__ = "reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrower.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    item_type_id: Mapped[int] = mapped_column(sa.ForeignKey("item_type.id"), index=True)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    date_from: Mapped[date] = mapped_column(sa.Date)
    date_to: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[ReservationStatus] = mapped_column(enum_type(ReservationStatus, 10), default=ReservationStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    item_type: Mapped[ItemType] = relationship()
    borrower: Mapped[Borrower] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),
                      sa.CheckConstraint("date_to >= date_from", name="period"))


class Loan(db.Model):
    __tablename__ = "loan"

    id: Mapped[int] = mapped_column(primary_key=True)
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("borrower.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    volunteer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    reservation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reservation.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    reminded_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    borrower: Mapped[Borrower] = relationship()
    location: Mapped[Location] = relationship()
    lines: Mapped[list[LoanLine]] = relationship(back_populates="loan", order_by="LoanLine.id")

    @property
    def is_overdue(self) -> bool:
        """Its due date has passed (in Norwegian time) and a unit is still out."""
        return self.due_on < today() and any(line.returned_at is None for line in self.lines)


class LoanLine(db.Model):
    """One unit in a loan. At most one open line per unit: enforced by a partial unique index."""

    __tablename__ = "loan_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loan.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    checked_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_condition: Mapped[UnitCondition | None] = mapped_column(enum_type(UnitCondition, 16))
    checklist_out: Mapped[list] = mapped_column(sa.JSON, default=list)
    checklist_in: Mapped[list] = mapped_column(sa.JSON, default=list)
    missing: Mapped[str] = mapped_column(sa.Text, default="")

    loan: Mapped[Loan] = relationship(back_populates="lines")
    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        sa.Index("uq_loan_line_one_open_per_unit", "unit_id", unique=True,
                 sqlite_where=sa.text("returned_at IS NULL"), postgresql_where=sa.text("returned_at IS NULL")),
    )


class UnmetDemand(db.Model):
    __tablename__ = "unmet_demand"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"), index=True)
    item_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("item_type.id", ondelete="SET NULL"))
    category: Mapped[ItemCategory] = mapped_column(enum_type(ItemCategory, 16))
    size: Mapped[str] = mapped_column(sa.String(40), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
