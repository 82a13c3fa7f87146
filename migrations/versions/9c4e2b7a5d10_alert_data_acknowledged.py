"""alerts: data (values the page renders the alert from), acknowledged_at/_by, index on warehouse

Revision ID: 9c4e2b7a5d10
Revises: d608acce2507
Create Date: 2026-12-01 00:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9c4e2b7a5d10'
down_revision = 'd608acce2507'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alerts_acknowledged_by_id_users'), 'users',
                                    ['acknowledged_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_alerts_warehouse_id'), ['warehouse_id'], unique=False)


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_warehouse_id'))
        batch_op.drop_constraint(batch_op.f('fk_alerts_acknowledged_by_id_users'), type_='foreignkey')
        batch_op.drop_column('acknowledged_by_id')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('data')
