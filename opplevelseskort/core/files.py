"""Stored files (offer pictures, item type photos) where every app node sees them: in the database.

One small interface (`put`, `get`, `delete`, `response`) so an S3-compatible store could stand behind it later;
the database backend works on PostgreSQL (bytea) and SQLite alike, needs no shared disk, and is covered by the
database's backup. Files are served with a strong ETag and cache headers, and answer 304 when unchanged.
"""

from __future__ import annotations

import hashlib

from flask import Response, abort, request

from ..extensions import db
from .models import StoredFile
from .types import utcnow


def put(key: str, data: bytes, content_type: str) -> StoredFile:
    """Store (or replace) the file under `key` in the current transaction."""
    row = db.session.scalar(db.select(StoredFile).filter_by(key=key))
    if row is None:
        row = StoredFile(key=key)
        db.session.add(row)
    row.content, row.content_type, row.size = data, content_type, len(data)
    row.etag = hashlib.sha256(data).hexdigest()[:32]
    row.updated_at = utcnow()
    db.session.flush()
    return row


def get(key: str) -> StoredFile | None:
    return db.session.scalar(db.select(StoredFile).filter_by(key=key))


def delete(key: str) -> None:
    db.session.execute(db.delete(StoredFile).where(StoredFile.key == key))


def response(key: str, *, max_age: int = 3600) -> Response:
    """The file with ETag and Cache-Control; 304 for a client that already has it; 404 when absent."""
    row = db.session.execute(db.select(StoredFile.etag, StoredFile.content_type, StoredFile.updated_at)
                             .filter_by(key=key)).first()
    if row is None:
        abort(404)
    etag, content_type, updated_at = row
    if etag in request.if_none_match:
        resp = Response(status=304)
    else:
        content = db.session.scalar(db.select(StoredFile.content).filter_by(key=key))
        resp = Response(content, mimetype=content_type)
    resp.set_etag(etag)
    resp.last_modified = updated_at
    resp.cache_control.public = True
    resp.cache_control.max_age = max_age
    return resp


def delete_older(prefix: str, cutoff) -> int:
    """Delete the files under `prefix` last written before `cutoff`; returns how many."""
    result = db.session.execute(db.delete(StoredFile).where(StoredFile.key.startswith(prefix, autoescape=True),
                                                            StoredFile.updated_at < cutoff))
    return result.rowcount or 0
