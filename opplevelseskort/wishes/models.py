"""The wish rounds' tables. An answer is tied to a class's school, grade band and zone, or to a card holder's zone
and grade band — never to a child, a card or a code: `wish_answer` has no foreign key to `child`, `card` or
`wish_code` (a test reads the schema). A card holder's "already answered" is a salted hash in `wish_voter`, apart
from the answers and deleted when the round closes."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db


class WishRoundStatus(enum.StrEnum):
    OPEN = "open"  # answers are taken between its days
    CLOSED = "closed"  # no more answers; card holders' hashes deleted
    PUBLISHED = "published"  # its protected results kept, the raw answers deleted


class GradeBand(enum.StrEnum):
    LOWER = "1-4"
    MIDDLE = "5-7"
    UPPER = "8-10"


class WishTime(enum.StrEnum):
    AFTER_SCHOOL = "after_school"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


class WishSource(enum.StrEnum):
    CLASS = "class"
    CARD = "card"


class TextStatus(enum.StrEnum):
    HELD = "held"  # waiting for moderation (names and numbers already masked)
    APPROVED = "approved"
    REJECTED = "rejected"


class WishCallStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class WishRound(db.Model):
    __tablename__ = "wish_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    opens_on: Mapped[date] = mapped_column(sa.Date)
    closes_on: Mapped[date] = mapped_column(sa.Date)
    grade_bands: Mapped[list] = mapped_column(sa.JSON, default=list)
    zone_ids: Mapped[list] = mapped_column(sa.JSON, default=list)  # empty: every zone
    schools: Mapped[list] = mapped_column(sa.JSON, default=list)
    free_text: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # "something else, in your words" (moderated)
    card_holders: Mapped[bool] = mapped_column(sa.Boolean, default=True)  # card holders may answer on their page
    salt: Mapped[str] = mapped_column(sa.String(64))  # for card holders' hashes; replaced when the round closes
    status: Mapped[WishRoundStatus] = mapped_column(enum_type(WishRoundStatus, 10), default=WishRoundStatus.OPEN)
    results: Mapped[dict | None] = mapped_column(sa.JSON)  # the protected results, once published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.CheckConstraint("closes_on >= opens_on", name="wish_round_days_in_order"),)


class WishClass(db.Model):
    """A class that answers with one-time codes: its school, grade band and zone (no pupil)."""

    __tablename__ = "wish_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_round.id", ondelete="CASCADE"), index=True)
    school: Mapped[str] = mapped_column(sa.String(120))
    name: Mapped[str] = mapped_column(sa.String(40))  # "5B"
    grade_band: Mapped[GradeBand] = mapped_column(enum_type(GradeBand, 5))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id", ondelete="RESTRICT"))
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)  # the sheet's notice, besides bokmål

    round: Mapped[WishRound] = relationship()


class WishCode(db.Model):
    """A one-time code of a class's sheet. It answers once; nothing records which answer it gave."""

    __tablename__ = "wish_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_class.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    used: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # no time: a time would line up with an answer

    wish_class: Mapped[WishClass] = relationship()


class WishVoter(db.Model):
    """A card holder who answered: HMAC(round salt, card) only, deleted when the round closes."""

    __tablename__ = "wish_voter"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_round.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (sa.UniqueConstraint("round_id", "voter_hash"),)


class WishAnswer(db.Model):
    __tablename__ = "wish_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_round.id", ondelete="CASCADE"), index=True)
    source: Mapped[WishSource] = mapped_column(enum_type(WishSource, 5))
    school: Mapped[str] = mapped_column(sa.String(120), default="")
    grade_band: Mapped[GradeBand] = mapped_column(enum_type(GradeBand, 5))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"))
    activities: Mapped[list] = mapped_column(sa.JSON, default=list)  # up to five activity codes
    with_friend: Mapped[bool | None] = mapped_column(sa.Boolean)
    times: Mapped[list] = mapped_column(sa.JSON, default=list)
    free_text: Mapped[str | None] = mapped_column(sa.String(200))  # masked, moderated, never exported
    text_status: Mapped[TextStatus | None] = mapped_column(enum_type(TextStatus, 10))


class WishCall(db.Model):
    """A call to partners made from a gap: an activity children wished for and no offer in their zone gives."""

    __tablename__ = "wish_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_round.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    activity: Mapped[str] = mapped_column(sa.String(30))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id", ondelete="RESTRICT"))
    grade_band: Mapped[GradeBand] = mapped_column(enum_type(GradeBand, 5))
    times: Mapped[list] = mapped_column(sa.JSON, default=list)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[WishCallStatus] = mapped_column(enum_type(WishCallStatus, 10), default=WishCallStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[WishRound] = relationship()


class WishOffer(db.Model):
    """An offer a partner made in answer to a call: the offer is tagged with the call, and so with the round."""

    __tablename__ = "wish_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("wish_call.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offer.id", ondelete="CASCADE"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[WishCall] = relationship()
