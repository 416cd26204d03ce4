"""Zones and the change lists between their classification versions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Municipality
from ..extensions import db


class Zone(db.Model):
    __tablename__ = "zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[str] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id", ondelete="SET NULL"), index=True)
    # GeoJSON geometry (Polygon/MultiPolygon) in WGS84, plus its bounding box for quick pre-filtering.
    boundary: Mapped[str | None] = mapped_column(sa.Text)
    min_lon: Mapped[float | None] = mapped_column(sa.Float)
    min_lat: Mapped[float | None] = mapped_column(sa.Float)
    max_lon: Mapped[float | None] = mapped_column(sa.Float)
    max_lat: Mapped[float | None] = mapped_column(sa.Float)
    # The classification version the code belongs to (SSB's grunnkrets codes change: "2019", "2020", ...); empty
    # for a municipality that never recorded one. Reports use the newest version; older ones are for comparisons.
    version: Mapped[str | None] = mapped_column(sa.String(20))

    municipality: Mapped[Municipality] = relationship()
    parent: Mapped[Zone | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Zone]] = relationship(back_populates="parent")

    __table_args__ = (sa.UniqueConstraint("municipality_id", "code"),)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestors(self) -> list[Zone]:
        out, node, seen = [], self.parent, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            out.append(node)
            node = node.parent
        return out


class ZoneCorrespondence(db.Model):
    """One line of a classification change (SSB's change lists, Kartverket's): a zone code of one version and the
    code it became in the next. Several lines with one new code are a merge; several with one old code a split,
    with the share of the old zone each part got when it is known."""

    __tablename__ = "zone_correspondence"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    from_version: Mapped[str] = mapped_column(sa.String(20))
    to_version: Mapped[str] = mapped_column(sa.String(20))
    old_code: Mapped[str] = mapped_column(sa.String(32))
    new_code: Mapped[str] = mapped_column(sa.String(32))
    weight: Mapped[float | None] = mapped_column(sa.Float)  # the old zone's share in the new one (splits)

    __table_args__ = (sa.UniqueConstraint("municipality_id", "from_version", "to_version", "old_code", "new_code"),)

