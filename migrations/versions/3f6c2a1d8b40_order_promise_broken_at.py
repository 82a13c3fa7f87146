"""orders.promise_broken_at: an accepted order no plan can keep on time (a first-class state)

Revision ID: 3f6c2a1d8b40
Revises: 5b1d0c7e9a21
Create Date: 2026-11-30 21:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f6c2a1d8b40'
down_revision = '5b1d0c7e9a21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promise_broken_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('promise_broken_at')
