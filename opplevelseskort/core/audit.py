"""The audit log: who did what to which record, when. Rows are added in the caller's transaction."""

from __future__ import annotations

import logging

from ..extensions import db
from .models import AuditLog
from .types import Actor

log = logging.getLogger(__name__)


def record(actor: Actor | None, action: str, object_type: str, object_id=None, *,
           municipality_id: int | None = None, **details) -> AuditLog:
    """Add one audit row in the current transaction (never commits)."""
    row = AuditLog(
        actor_id=actor.id if actor is not None and getattr(actor, "id", None) else None,
        actor_label=(actor.email if actor is not None and getattr(actor, "email", None) else "system"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        municipality_id=municipality_id,
        details=details,
    )
    db.session.add(row)
    return row


def entries_for(object_type: str, object_id) -> list[AuditLog]:
    """Audit rows for one record, newest first."""
    return list(db.session.scalars(
        db.select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    ))
