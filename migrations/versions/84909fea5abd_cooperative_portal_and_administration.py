"""cooperative portal and administration: product photos, listing revisions (a new or changed
listing waits for the operator), prohibited terms, handovers at a cooperative with their lines,
window misses (short windows lost to goods sitting at the cooperative), licence and certificate
scans, cooperative status reasons, low-stock thresholds, replenishment transit fields

Revision ID: 84909fea5abd
Revises: b7e41d9c2a60
Create Date: 2026-12-01 02:49:21

"""
import sqlalchemy as sa
from alembic import op

revision = '84909fea5abd'
down_revision = 'b7e41d9c2a60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('listing_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('is_new', sa.Boolean(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('holds', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', 'withdrawn', name='revisionstatus', native_enum=False, length=24), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_listing_revisions_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_listing_revisions_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_listing_revisions_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_revisions'))
    )
    with op.batch_alter_table('listing_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_revisions_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_revisions_status'), ['status'], unique=False)
        batch_op.create_index('uq_listing_revisions_pending_product', ['product_id'], unique=True, sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))

    op.create_table('product_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_photos_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_product_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_photos')),
    sa.UniqueConstraint('file_id', name=op.f('uq_product_photos_file_id'))
    )
    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_photos_product_id'), ['product_id'], unique=False)

    op.create_table('prohibited_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('prohibited', 'restricted', name='termkind', native_enum=False, length=24), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_prohibited_terms_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prohibited_terms')),
    sa.UniqueConstraint('term', name=op.f('uq_prohibited_terms_term'))
    )
    op.create_table('window_misses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('window_code', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_window_misses_product_id_products')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_window_misses_user_id_users')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_window_misses_warehouse_id_warehouses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_window_misses'))
    )
    with op.batch_alter_table('window_misses', schema=None) as batch_op:
        batch_op.create_index('ix_window_misses_product_at', ['product_id', 'created_at'], unique=False)

    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stop_id', sa.Integer(), nullable=False),
    sa.Column('cooperative_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.Integer(), nullable=True),
    sa.Column('handed_over_by', sa.String(length=64), nullable=False),
    sa.Column('handed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('mismatch', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cooperative_id'], ['cooperatives.id'], name=op.f('fk_handovers_cooperative_id_cooperatives')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_handovers_location_id_locations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_handovers_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['stop_id'], ['stops.id'], name=op.f('fk_handovers_stop_id_stops')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_handovers_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers')),
    sa.UniqueConstraint('stop_id', name=op.f('uq_handovers_stop_id'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_cooperative_id'), ['cooperative_id'], unique=False)

    op.create_table('handover_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('replenishment_id', sa.Integer(), nullable=True),
    sa.Column('expected', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.CheckConstraint('counted >= 0', name=op.f('ck_handover_lines_counted_nonnegative')),
    sa.CheckConstraint('expected >= 0', name=op.f('ck_handover_lines_expected_nonnegative')),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_lines_handover_id_handovers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_handover_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_handover_lines_product_id_products')),
    sa.ForeignKeyConstraint(['replenishment_id'], ['replenishments.id'], name=op.f('fk_handover_lines_replenishment_id_replenishments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_lines'))
    )
    with op.batch_alter_table('handover_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_lines_handover_id'), ['handover_id'], unique=False)

    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.add_column(sa.Column('licence_file', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status_reason', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_file', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('replenishments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('picked_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('quantity_delivered', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_replenishments_requested_by_id_users'), 'users', ['requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_replenishments_batch_id_batches'), 'batches', ['batch_id'], ['id'])

    with op.batch_alter_table('stocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low_stock_at', sa.Integer(), server_default=sa.text('5'), nullable=False))



def downgrade():
    with op.batch_alter_table('stocks', schema=None) as batch_op:
        batch_op.drop_column('low_stock_at')

    with op.batch_alter_table('replenishments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_replenishments_batch_id_batches'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_replenishments_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_column('quantity_delivered')
        batch_op.drop_column('delivered_at')
        batch_op.drop_column('picked_up_at')
        batch_op.drop_column('batch_id')
        batch_op.drop_column('requested_by_id')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
        batch_op.drop_column('certificate_file')

    with op.batch_alter_table('cooperatives', schema=None) as batch_op:
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('licence_file')

    with op.batch_alter_table('handover_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handover_lines_handover_id'))

    op.drop_table('handover_lines')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handovers_cooperative_id'))

    op.drop_table('handovers')
    with op.batch_alter_table('window_misses', schema=None) as batch_op:
        batch_op.drop_index('ix_window_misses_product_at')

    op.drop_table('window_misses')
    op.drop_table('prohibited_terms')
    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_photos_product_id'))

    op.drop_table('product_photos')
    with op.batch_alter_table('listing_revisions', schema=None) as batch_op:
        batch_op.drop_index('uq_listing_revisions_pending_product', sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_listing_revisions_status'))
        batch_op.drop_index(batch_op.f('ix_listing_revisions_product_id'))

    op.drop_table('listing_revisions')
