"""Backup and restore as documented: pg_dump of a demo database restored into a fresh one, row counts compared."""

import shutil
import subprocess

import pytest
import sqlalchemy as sa

from opplevelseskort.extensions import db

from ..conftest import _worker_db_url

pytestmark = pytest.mark.pg


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {n: conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar() for n in sorted(names)}
    finally:
        engine.dispose()


def test_pg_dump_of_a_demo_database_restores_with_every_row(make_app, worker_id, tmp_path, committing):
    from flask_migrate import upgrade

    from opplevelseskort.demo import load_demo

    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "PostgreSQL client tools are needed"
    source, target = _worker_db_url(f"{worker_id}_bk_src"), _worker_db_url(f"{worker_id}_bk_dst")
    app = make_app(SQLALCHEMY_DATABASE_URI=source)
    with app.app_context():
        db.engines[None] = sa.create_engine(source)
        upgrade(revision="heads")
        with app.test_request_context():
            load_demo(small=True)
            db.session.commit()
        db.session.remove()
        db.engines[None].dispose()
    dump = tmp_path / "backup.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _libpq(source)], check=True)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(target)}", str(dump)],
                   check=True)
    before, after = _counts(source), _counts(target)
    assert before == after
    assert before["child"] > 0 and before["card"] > 0 and before["alembic_version"] == 1
