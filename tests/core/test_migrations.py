"""Migrations build the whole schema from empty, match the models exactly, and downgrade."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from opplevelseskort.extensions import db

from ..conftest import IS_PG, _worker_db_url


def _fresh_url(tmp_path, worker_id):
    return _worker_db_url(f"{worker_id}_mig") if IS_PG else f"sqlite:///{tmp_path}/mig.sqlite"


def _diff(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, db.metadata)


def test_upgrade_from_empty_matches_models_and_downgrades(make_app, tmp_path, worker_id, committing):
    app = make_app(SQLALCHEMY_DATABASE_URI=_fresh_url(tmp_path, worker_id))
    with app.app_context():
        db.engines[None] = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        upgrade(revision="heads")
        diff = _diff(db.engine)
        assert diff == [], diff
        downgrade(revision="base")
        names = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert names == set()
        db.engines[None].dispose()
