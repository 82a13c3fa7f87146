"""dispatch actions: order_pins (an order served by one vehicle only), vehicle_breakdowns (a
vehicle out of service until the end of its shift), dispatch_requests (re-plan form tokens)

Revision ID: b7e41d9c2a60
Revises: f92fb176f451
Create Date: 2026-12-01 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7e41d9c2a60'
down_revision = 'f92fb176f451'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_pins',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.Integer(), nullable=False),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.Column('pinned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_pins_order_id_orders')),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['users.id'], name=op.f('fk_order_pins_pinned_by_id_users')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_order_pins_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_order_pins'))
    )
    with op.batch_alter_table('order_pins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_pins_vehicle_id'), ['vehicle_id'], unique=False)

    op.create_table('vehicle_breakdowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.Integer(), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_vehicle_breakdowns_reported_by_id_users')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_vehicle_breakdowns_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicle_breakdowns'))
    )
    with op.batch_alter_table('vehicle_breakdowns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_breakdowns_vehicle_id'), ['vehicle_id'], unique=False)

    op.create_table('dispatch_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_dispatch_requests_actor_user_id_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_dispatch_requests_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_requests')),
    sa.UniqueConstraint('token', name=op.f('uq_dispatch_requests_token'))
    )


def downgrade():
    op.drop_table('dispatch_requests')
    with op.batch_alter_table('vehicle_breakdowns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_breakdowns_vehicle_id'))
    op.drop_table('vehicle_breakdowns')
    with op.batch_alter_table('order_pins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_pins_vehicle_id'))
    op.drop_table('order_pins')
