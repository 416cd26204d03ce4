"""Stored files (offer pictures, item type photos) where every app node sees them: in the database.

One small interface (`put`, `get`, `delete`, `response`) so an S3-compatible store could stand behind it later;
the database backend works on PostgreSQL (bytea) and SQLite alike, needs no shared disk, and is covered by the
database's backup. Files are served with a strong ETag and cache headers, and answer 304 when unchanged.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

from flask import Response, abort, request

from ..extensions import db
from .clock import utcnow
from .models import StoredFile, StoredFileChunk

CHUNK = 1024 * 1024  # bytes per stored piece of a streamed file


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


def size(key: str) -> int | None:
    """A stored file's size in bytes (None: no such file), without reading its content."""
    return db.session.scalar(db.select(StoredFile.size).filter_by(key=key))


def put_stream(key: str, stream: BinaryIO, content_type: str) -> StoredFile:
    """Store what `stream` holds, one CHUNK at a time (an upload Werkzeug spooled to disk): memory stays at one
    chunk whatever the file's size (the request's size cap is MAX_CONTENT_LENGTH)."""
    delete(key)
    row = StoredFile(key=key, content=b"", content_type=content_type, size=0, etag="", chunks=0, updated_at=utcnow())
    db.session.add(row)
    db.session.flush()
    digest, size, seq = hashlib.sha256(), 0, 0
    while piece := stream.read(CHUNK):
        size += len(piece)
        digest.update(piece)
        db.session.execute(db.insert(StoredFileChunk).values(file_id=row.id, seq=seq, data=piece))
        seq += 1
    row.size, row.chunks, row.etag = size, seq, digest.hexdigest()[:32]
    db.session.flush()
    return row


class _ChunkReader(io.RawIOBase):
    """A stored file read one chunk (one query) at a time."""

    def __init__(self, file_id: int, chunks: int, first: bytes):
        self._file_id, self._chunks, self._seq, self._buffer = file_id, chunks, 0, first

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not self._buffer and self._seq < self._chunks:
            self._buffer = db.session.scalar(db.select(StoredFileChunk.data).where(
                StoredFileChunk.file_id == self._file_id, StoredFileChunk.seq == self._seq)) or b""
            self._seq += 1
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def open_stream(key: str) -> BinaryIO | None:
    """The stored file as a binary stream (chunk by chunk for a streamed one); None when it is not there."""
    row = db.session.execute(db.select(StoredFile.id, StoredFile.chunks).filter_by(key=key)).first()
    if row is None:
        return None
    file_id, chunks = row
    first = b"" if chunks else db.session.scalar(db.select(StoredFile.content).where(StoredFile.id == file_id))
    return io.BufferedReader(_ChunkReader(file_id, chunks, first or b""), buffer_size=64 * 1024)


def delete(key: str) -> None:
    ids = db.select(StoredFile.id).where(StoredFile.key == key).scalar_subquery()
    db.session.execute(db.delete(StoredFileChunk).where(StoredFileChunk.file_id.in_(ids)))
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
    old = (StoredFile.key.startswith(prefix, autoescape=True), StoredFile.updated_at < cutoff)
    db.session.execute(db.delete(StoredFileChunk).where(
        StoredFileChunk.file_id.in_(db.select(StoredFile.id).where(*old).scalar_subquery())))
    result = db.session.execute(db.delete(StoredFile).where(*old))
    return result.rowcount or 0
