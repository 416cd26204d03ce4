"""job_run.context: how a run runs (language, address, lane, retries, its page's keys), apart from its params

Revision ID: 0033_job_run_context
Revises: 0032_report_feature
Create Date: 2026-12-06 19:00:00

A run's params were its function's arguments mixed with keys starting with "_" that the runner dropped before the
call; those keys move to `context` under their names without the underscore, so params are exactly the arguments.
"""
import sqlalchemy as sa
from alembic import op

revision = '0033_job_run_context'
down_revision = '0032_report_feature'
branch_labels = None
depends_on = None

RUNS = sa.table("job_run", sa.column("id", sa.Integer), sa.column("params", sa.JSON), sa.column("context", sa.JSON))


def upgrade():
    with op.batch_alter_table('job_run') as batch:
        batch.add_column(sa.Column('context', sa.JSON(), nullable=False, server_default='{}'))
    conn = op.get_bind()
    for run_id, params in conn.execute(sa.select(RUNS.c.id, RUNS.c.params)).all():
        params = params or {}
        moved = {k[1:]: v for k, v in params.items() if k.startswith("_")}
        if moved:
            kept = {k: v for k, v in params.items() if not k.startswith("_")}
            conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(params=kept, context=moved))


def downgrade():
    conn = op.get_bind()
    for run_id, params, context in conn.execute(sa.select(RUNS.c.id, RUNS.c.params, RUNS.c.context)).all():
        if context:
            conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(
                params={**(params or {}), **{"_" + k: v for k, v in context.items()}}))
    with op.batch_alter_table('job_run') as batch:
        batch.drop_column('context')
