"""Zone indicators from the living-conditions mapping (levekårskartlegging)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.types import UTCDateTime, utcnow
from ..extensions import db
from ..zones.models import Zone


class ZoneIndicator(db.Model):
    __tablename__ = "zone_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    year: Mapped[int] = mapped_column(sa.Integer)
    value: Mapped[float | None] = mapped_column(sa.Float)
    numerator: Mapped[float | None] = mapped_column(sa.Float)
    denominator: Mapped[float | None] = mapped_column(sa.Float)
    # SSB's symbol when the figure is missing: "-" nil, ".." not available, "..." not applicable,
    # ":" suppressed, "." not yet available. The value is then NULL.
    status: Mapped[str | None] = mapped_column(sa.String(3))
    # the same symbols for a missing numerator or denominator beside a value (SSB's "-" is nil: zero)
    numerator_status: Mapped[str | None] = mapped_column(sa.String(3))
    denominator_status: Mapped[str | None] = mapped_column(sa.String(3))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zone: Mapped[Zone] = relationship()

    __table_args__ = (sa.UniqueConstraint("zone_id", "key", "year"),)


class ReportPublication(db.Model):
    """A period's protected publication as pages, exports and the API read it: built by a job (the solver never
    runs in a request), stored with the data version it was built from, shared by every node."""

    __tablename__ = "report_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(sa.String(40))  # the period's label: 2026, 2026-Q1, 2026-03, a..b
    settings: Mapped[str] = mapped_column(sa.String(60))  # the disclosure settings it was protected under
    data_version: Mapped[str] = mapped_column(sa.String(64))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    build_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    content: Mapped[dict] = mapped_column(sa.JSON)

    __table_args__ = (sa.UniqueConstraint("municipality_id", "period", "settings"),)


class ReportFeature(db.Model):
    """One zone of a stored yearly publication as the OGC API serves it: its published figures, need and index as
    GeoJSON properties, in the order of the collection, with its box. A page of items is read by position with
    LIMIT/OFFSET (and the box in SQL), so a page costs the page, not the collection. Written when the publication
    is built (rows of an earlier build of it are replaced); the boundary is read from the zone."""

    __tablename__ = "report_feature"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(sa.ForeignKey("report_publication.id", ondelete="CASCADE"))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the build of the publication the rows are from
    level: Mapped[str] = mapped_column(sa.String(40))
    position: Mapped[int] = mapped_column(sa.Integer)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(32))
    properties: Mapped[dict] = mapped_column(sa.JSON)
    min_lon: Mapped[float | None] = mapped_column(sa.Float)
    min_lat: Mapped[float | None] = mapped_column(sa.Float)
    max_lon: Mapped[float | None] = mapped_column(sa.Float)
    max_lat: Mapped[float | None] = mapped_column(sa.Float)

    __table_args__ = (sa.UniqueConstraint("publication_id", "level", "position"),
                      sa.Index("ix_report_feature_code", "publication_id", "level", "code"),
                      sa.Index("ix_report_feature_box", "publication_id", "level", "min_lon", "max_lon"))


class IndexMethod(db.Model):
    """A municipality's way of making its levekårsindeks: which indicators, each one's weight and direction.
    Never changed in place: a change is a new version, so an index can always say how it was made."""

    __tablename__ = "index_method"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    # [{"key": indicator key, "weight": float > 0, "higher_is_worse": bool}, ...]
    indicators: Mapped[list] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    __table_args__ = (sa.UniqueConstraint("municipality_id", "version"),)


class ImportedIndex(db.Model):
    """A municipality's own levekårsindeks for a zone and year as it was published (Drammen's, Stavanger's), with
    its sub-scores and the method's name and version, beside the one computed here by SSB's method."""

    __tablename__ = "imported_index"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(sa.String(120))
    method_version: Mapped[str] = mapped_column(sa.String(40))
    year: Mapped[int] = mapped_column(sa.Integer)
    value: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[str | None] = mapped_column(sa.String(3))  # SSB's symbol when the index is missing
    sub_scores: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # sub-score name -> value (None when missing)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    zone: Mapped[Zone] = relationship()

    __table_args__ = (sa.UniqueConstraint("zone_id", "method", "method_version", "year"),)

