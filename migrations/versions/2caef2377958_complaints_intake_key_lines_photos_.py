"""complaints: intake key, lines, photos, channel, driver, batch, near-breach; resolutions

Revision ID: 2caef2377958
Revises: 5b1e9c3d7a20
Create Date: 2026-12-01 03:19:06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2caef2377958'
down_revision = '5b1e9c3d7a20'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('complaint_resolutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('refund', 'reship', 'coupon', name='resolutionkind', native_enum=False, length=24), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('compensation_id', sa.Integer(), nullable=True),
    sa.Column('reship_order_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen >= 0', name=op.f('ck_complaint_resolutions_amount_nonnegative')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_complaint_resolutions_actor_user_id_users')),
    sa.ForeignKeyConstraint(['compensation_id'], ['compensations.id'], name=op.f('fk_complaint_resolutions_compensation_id_compensations')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_complaint_resolutions_complaint_id_complaints')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_complaint_resolutions_refund_id_refunds')),
    sa.ForeignKeyConstraint(['reship_order_id'], ['orders.id'], name=op.f('fk_complaint_resolutions_reship_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_resolutions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_complaint_resolutions_idempotency_key'))
    )
    with op.batch_alter_table('complaint_resolutions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_resolutions_complaint_id'), ['complaint_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('line_ids', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('photos', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='web', nullable=False))
        batch_op.add_column(sa.Column('filed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('driver_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('near_breach_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_complaints_user_id_idempotency_key'), ['user_id', 'idempotency_key'])
        batch_op.create_foreign_key(batch_op.f('fk_complaints_batch_id_batches'), 'batches', ['batch_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_complaints_driver_id_drivers'), 'drivers', ['driver_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_complaints_filed_by_id_users'), 'users', ['filed_by_id'], ['id'])




def downgrade():
    
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_complaints_filed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_complaints_driver_id_drivers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_complaints_batch_id_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_complaints_user_id_idempotency_key'), type_='unique')
        batch_op.drop_column('near_breach_at')
        batch_op.drop_column('batch_id')
        batch_op.drop_column('driver_id')
        batch_op.drop_column('filed_by_id')
        batch_op.drop_column('channel')
        batch_op.drop_column('photos')
        batch_op.drop_column('line_ids')
        batch_op.drop_column('idempotency_key')

    with op.batch_alter_table('complaint_resolutions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_resolutions_complaint_id'))

    op.drop_table('complaint_resolutions')

