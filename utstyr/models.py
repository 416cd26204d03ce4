"""Equipment pool models."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opplevelseskort.core.models import Municipality, User, Zone
from opplevelseskort.core.types import UTCDateTime, utcnow
from opplevelseskort.extensions import db

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

    municipality: Mapped[Municipality] = relationship()
    zone: Mapped[Zone | None] = relationship()
    volunteers: Mapped[list[User]] = relationship(secondary=volunteer_location)
