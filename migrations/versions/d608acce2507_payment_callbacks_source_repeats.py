"""payment_callbacks: source address, repeats and last_received_at (refused callbacks collapsed),
an index on received_at (the per-minute counts)

Revision ID: d608acce2507
Revises: 7a2e5c9d1f03
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd608acce2507'
down_revision = '7a2e5c9d1f03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=45), server_default='', nullable=False))
        batch_op.add_column(sa.Column('repeats', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_payment_callbacks_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('payment_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_callbacks_received_at'))
        batch_op.drop_column('last_received_at')
        batch_op.drop_column('repeats')
        batch_op.drop_column('source')
