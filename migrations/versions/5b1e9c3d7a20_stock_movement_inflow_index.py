"""stock movements: a partial index of the inflows per stock row (batch traceability at checkout)

Revision ID: 5b1e9c3d7a20
Revises: 84909fea5abd
Create Date: 2026-12-01 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e9c3d7a20'
down_revision = '84909fea5abd'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movements_inflow', ['stock_id', 'id'], unique=False,
                              postgresql_where=sa.text('delta_on_hand > 0'), sqlite_where=sa.text('delta_on_hand > 0'))


def downgrade():
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movements_inflow', postgresql_where=sa.text('delta_on_hand > 0'),
                            sqlite_where=sa.text('delta_on_hand > 0'))
