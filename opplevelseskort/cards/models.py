"""Households, guardians, children and their cards. Only what the scheme needs: no identity numbers,
no income, no case details — "eligible from … to …, via channel X, confirmed by caseworker Y"."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..core.models import Municipality
from ..core.types import UTCDateTime, enum_type, utcnow
from ..extensions import db
from ..zones.models import Zone


class Channel(enum.StrEnum):
    NAV = "nav"
    CHILD_WELFARE = "child_welfare"
    SCHOOL = "school"
    HEALTH_NURSE = "health_nurse"
    INTRODUCTION = "introduction"
    APPLICATION = "application"
    OTHER = "other"


class Gender(enum.StrEnum):
    GIRL = "girl"
    BOY = "boy"
    OTHER = "other"


class RevokeReason(enum.StrEnum):
    LOST = "lost"
    ELIGIBILITY_ENDED = "eligibility_ended"
    MISUSE = "misuse"
    REPLACED = "replaced"


class CardStatus(enum.StrEnum):
    """A card's standing on a given day. ACTIVE means valid that day (not revoked, inside its dates); a card
    that is merely not revoked is "unrevoked" (cards.services.unrevoked_card)."""

    ACTIVE = "active"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"


class Household(db.Model):
    __tablename__ = "household"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the household import that registered it (its card links are sent, or its sheets printed, from that import)
    import_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job_run.id", ondelete="SET NULL"), index=True)

    municipality: Mapped[Municipality] = relationship()
    guardians: Mapped[list[Guardian]] = relationship(back_populates="household", cascade="all, delete-orphan",
                                                     order_by="Guardian.id")
    children: Mapped[list[Child]] = relationship(back_populates="household", order_by="Child.id")


class Guardian(db.Model):
    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    preferred_language: Mapped[str] = mapped_column(sa.String(8), default="nb")

    household: Mapped[Household] = relationship(back_populates="guardians")
    # Phone or e-mail is required where a guardian registers or is registered by hand (services.validate_guardian);
    # an import may bring a guardian with neither (a school's list): the family gets its link on a printed sheet.


class Child(db.Model):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    given_name: Mapped[str | None] = mapped_column(sa.String(100))
    family_name: Mapped[str | None] = mapped_column(sa.String(100))
    birth_year: Mapped[int] = mapped_column(sa.Integer)
    birth_month: Mapped[int | None] = mapped_column(sa.Integer)
    gender: Mapped[Gender | None] = mapped_column(enum_type(Gender, 8))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, 16))
    eligible_from: Mapped[date] = mapped_column(sa.Date)
    eligible_until: Mapped[date] = mapped_column(sa.Date)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household | None] = relationship(back_populates="children")
    zone: Mapped[Zone | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
    cards: Mapped[list[Card]] = relationship(back_populates="child", order_by="Card.id",
                                             foreign_keys="Card.child_id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("birth_month IS NULL OR (birth_month BETWEEN 1 AND 12)", name="birth_month_range"),
        sa.CheckConstraint("eligible_until >= eligible_from", name="eligibility_period"),
    )

    @property
    def has_unrevoked_card(self) -> bool:
        """A card not revoked (valid, expired or not yet valid): a new card is not issued beside it."""
        return any(card.revoked_at is None for card in self.cards)

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class Card(db.Model):
    __tablename__ = "card"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(sa.ForeignKey("child.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    qr_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    short_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    family_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    companions: Mapped[int] = mapped_column(sa.Integer, default=1)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a parent said "do not ask my child about wishes" (the wish rounds pass this card by)
    wishes_opt_out: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    revoked_reason: Mapped[RevokeReason | None] = mapped_column(enum_type(RevokeReason, 20))
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("card.id", ondelete="SET NULL"))

    child: Mapped[Child] = relationship(back_populates="cards", foreign_keys=[child_id])
    replaces: Mapped[Card | None] = relationship(remote_side=[id])

    __table_args__ = (
        # One unrevoked card per child, enforced by the database (the index keeps its older name).
        sa.Index("uq_card_one_active_per_child", "child_id", unique=True,
                 sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL")),
        sa.CheckConstraint("companions >= 0 AND companions <= 5", name="companions_range"),
        sa.CheckConstraint("valid_until >= valid_from", name="validity_period"),
    )


class ApplicationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Application(db.Model):
    """A guardian's own application for cards; waits for a caseworker."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    status: Mapped[ApplicationStatus] = mapped_column(enum_type(ApplicationStatus, 10),
                                                      default=ApplicationStatus.PENDING, index=True)
    guardian_name: Mapped[str] = mapped_column(sa.String(200))
    guardian_phone: Mapped[str | None] = mapped_column(sa.String(32))
    guardian_email: Mapped[str | None] = mapped_column(sa.String(254))
    preferred_language: Mapped[str] = mapped_column(sa.String(8), default="nb")
    # [{"given_name", "family_name", "birth_year", "birth_month", "zone"}]
    children: Mapped[list] = mapped_column(sa.JSON, default=list)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    household_id: Mapped[int | None] = mapped_column(sa.ForeignKey("household.id", ondelete="SET NULL"))


class SigningKeyStatus(enum.StrEnum):
    ACTIVE = "active"  # signs new codes
    RETIRING = "retiring"  # signs nothing; its codes still verify
    RETIRED = "retired"  # verifies nothing


class SigningKey(db.Model):
    """A municipality's Ed25519 key for signed card codes (cards.signing): its public half is published in the
    trust list; the private half is kept encrypted with a key derived from SECRET_KEY."""

    __tablename__ = "card_signing_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(sa.String(16), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(32))
    private_key: Mapped[bytes] = mapped_column(sa.LargeBinary(200))
    status: Mapped[SigningKeyStatus] = mapped_column(enum_type(SigningKeyStatus, 10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retiring_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_counter: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    __table_args__ = (
        # one active key per municipality, enforced by the database
        sa.Index("uq_card_signing_key_active", "municipality_id", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
    )


class CardRevocation(db.Model):
    """A card's signed codes issued before a time no longer count (a re-issued code does): one entry per key, with
    the key's counter at the time (a scanner asks for the entries after the counter it holds)."""

    __tablename__ = "card_revocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_id: Mapped[int] = mapped_column(sa.ForeignKey("card_signing_key.id", ondelete="CASCADE"), index=True)
    card_number: Mapped[str] = mapped_column(sa.String(16))
    issued_before: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.UniqueConstraint("key_id", "seq"),)


class CardDevice(db.Model):
    """A phone the card is bound to: its own P-256 public key (the private key never leaves the phone). The phone
    signs the time of each code it shows; a few phones per card (a family shares the card)."""

    __tablename__ = "card_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("card.id", ondelete="CASCADE"), index=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary(65))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("card_id", "public_key"),)


class WalletKind(enum.StrEnum):
    APPLE = "apple"
    GOOGLE = "google"


class WalletCredential(db.Model):
    """What a municipality obtained to put cards in phones' wallets (off until configured): the identifiers in
    `settings`, the private parts (certificate key, service account key) sealed with a key derived from SECRET_KEY."""

    __tablename__ = "wallet_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"))
    kind: Mapped[WalletKind] = mapped_column(enum_type(WalletKind, 10))
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("municipality_id", "kind"),)


class WalletPass(db.Model):
    """A card's pass in a phone's wallet: an opaque serial (never the card number); `updated_at` moves when the card
    changes, so the wallet's update service hands out the new pass."""

    __tablename__ = "wallet_pass"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("card.id", ondelete="CASCADE"), index=True)
    kind: Mapped[WalletKind] = mapped_column(enum_type(WalletKind, 10))
    serial: Mapped[str] = mapped_column(sa.String(40), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("card_id", "kind"),)


class WalletRegistration(db.Model):
    """A device that asked to hear of a pass's changes (Apple's update web service); registering twice is once."""

    __tablename__ = "wallet_registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(sa.String(64))
    pass_id: Mapped[int] = mapped_column(sa.ForeignKey("wallet_pass.id", ondelete="CASCADE"), index=True)
    push_token: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("device_id", "pass_id"),)
