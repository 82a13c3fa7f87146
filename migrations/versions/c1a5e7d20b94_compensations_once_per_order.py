"""compensations: at most one automatic compensation per order (a partial unique index on
order_id where complaint_id is null; compensations granted by complaint staff are not limited)

Revision ID: c1a5e7d20b94
Revises: b7d3e1f0c2a4
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c1a5e7d20b94'
down_revision = 'b7d3e1f0c2a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compensations', schema=None) as batch_op:
        batch_op.create_index('uq_compensations_automatic_order', ['order_id'], unique=True,
                              sqlite_where=sa.text('complaint_id IS NULL'),
                              postgresql_where=sa.text('complaint_id IS NULL'))


def downgrade():
    with op.batch_alter_table('compensations', schema=None) as batch_op:
        batch_op.drop_index('uq_compensations_automatic_order')
