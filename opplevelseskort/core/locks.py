"""Locks that die with their holder: one node at a time runs a scheduled job, and a worker killed while holding the
lock leaves none behind (the database server or the kernel releases it)."""

from __future__ import annotations

import contextlib
import fcntl
import zlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..extensions import db


@contextlib.contextmanager
def held(name: str) -> Iterator[bool]:
    """A lock that dies with its holder: on PostgreSQL a session advisory lock on a connection of its own (the
    server releases it when the worker's connection drops), elsewhere an flock on a file in the instance folder
    (the kernel releases it when the process dies). Yields whether this process holds it."""
    if db.engine.dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = bool(conn.scalar(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            try:
                yield got
            finally:
                if got:
                    conn.scalar(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    folder = Path(current_app.instance_path) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / (name.replace(":", "_") + ".lock"), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
