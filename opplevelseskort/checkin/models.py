"""Check-ins: one row per counted visit of a card at an offer; offline scans as the scanner queued them."""

from __future__ import annotations

import enum
from datetime import date, datetime

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
    OFFLINE = "offline"  # scanned without a network, judged when the scanner synced


class ScanOutcome(enum.StrEnum):
    ACCEPTED = "accepted"  # counted: the visit key's one visit
    DUPLICATE = "duplicate"  # the same child at the same offer that day, counted already: kept, not counted
    REJECTED = "rejected"  # not a visit the server can stand behind (unknown card, altered code...)


class ScanReason(enum.StrEnum):
    """Why an offline scan was rejected."""

    OFFER_NOT_FOUND = "offer_not_found"
    CODE_INVALID = "code_invalid"
    CARD_UNKNOWN = "card_unknown"
    TIME_IN_FUTURE = "time_in_future"
    TOO_OLD = "too_old"
    EVENT_ID_REUSED = "event_id_reused"


class ScanFlag(enum.StrEnum):
    """What the server found of an offline scan that the door could not know (the scan is stored all the same)."""

    REVOKED_BEFORE_SCAN = "revoked_before_scan"
    QUOTA_EXCEEDED = "quota_exceeded"
    CLOCK_SKEW = "clock_skew"
    COPIED_CODE = "copied_code"  # a phone's rotating code signed long before the scan (a screenshot)
    CARD_EXPIRED = "card_expired"
    CARD_NOT_YET_VALID = "card_not_yet_valid"
    OFFER_INACTIVE = "offer_inactive"
    AGE_OUTSIDE_RANGE = "age_outside_range"
    NOT_BOOKED = "not_booked"
    COMPANIONS_EXCEEDED = "companions_exceeded"


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


class OfflineScan(db.Model):
    """One scan an offline scanner queued, as the sync judged it. The event id is the device's, so a batch sent
    twice is one; the visit key (card, offer, local day) has at most one accepted scan (the database says so), the
    earliest; the others are kept as visible duplicates for the partner's statement. `flags` are what the server's
    rules found that the door could not know (a card revoked before the scan, a quota exceeded, a clock off)."""

    __tablename__ = "offline_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # the event's content: one id, one content
    device_id: Mapped[str] = mapped_column(sa.String(64))
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offer.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("card.id", ondelete="SET NULL"), index=True)
    checkin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkin.id", ondelete="SET NULL"))
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checkin.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    device_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the scan's time by the device's clock
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)  # corrected by the clock offset measured at sync
    visit_day: Mapped[date] = mapped_column(sa.Date)  # the local day of scanned_at: the visit key's day
    clock_offset_s: Mapped[int] = mapped_column(sa.Integer, default=0)  # what the device said of its clock
    skew_s: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the device clock's error measured at sync
    companions: Mapped[int] = mapped_column(sa.Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[ScanOutcome] = mapped_column(enum_type(ScanOutcome, 10))
    reason: Mapped[str | None] = mapped_column(sa.String(40))  # a rejection's code
    flags: Mapped[list] = mapped_column(sa.JSON, default=list)

    __table_args__ = (
        sa.CheckConstraint("companions >= 0", name="offline_companions_not_negative"),
        # the visit key: one counted scan of a card at an offer a day, however many phones saw it
        sa.Index("uq_offline_scan_visit_key", "card_id", "offer_id", "visit_day", unique=True,
                 sqlite_where=sa.text("outcome = 'accepted'"), postgresql_where=sa.text("outcome = 'accepted'")),
    )
