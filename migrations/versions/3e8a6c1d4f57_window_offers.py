"""window offers: the classes a checkout quote could keep per consumer, zone and 10-minute slot, and the class chosen

Revision ID: 3e8a6c1d4f57
Revises: 7d3f1b2a9c40
Create Date: 2026-12-01 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e8a6c1d4f57'
down_revision = '7d3f1b2a9c40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('window_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('slot_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quoted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('quotes', sa.Integer(), nullable=False),
    sa.Column('offered', sa.String(length=64), nullable=False),
    sa.Column('chosen_code', sa.String(length=8), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_window_offers_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_window_offers_user_id_users')),
    sa.ForeignKeyConstraint(['zone_id'], ['zones.id'], name=op.f('fk_window_offers_zone_id_zones')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_window_offers')),
    sa.UniqueConstraint('user_id', 'zone_id', 'slot_at', name=op.f('uq_window_offers_user_id_zone_id_slot_at'))
    )
    with op.batch_alter_table('window_offers', schema=None) as batch_op:
        batch_op.create_index('ix_window_offers_slot_at', ['slot_at'], unique=False)


def downgrade():
    with op.batch_alter_table('window_offers', schema=None) as batch_op:
        batch_op.drop_index('ix_window_offers_slot_at')

    op.drop_table('window_offers')
