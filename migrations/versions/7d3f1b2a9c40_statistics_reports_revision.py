"""statistics reports: a revision per period (kind, start, end, revision unique), who asked for it

Revision ID: 7d3f1b2a9c40
Revises: 2caef2377958
Create Date: 2026-12-01 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3f1b2a9c40'
down_revision = '2caef2377958'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('statistics_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('requested_by_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_statistics_reports_kind_period_start'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_statistics_reports_kind_period_start_period_end_revision'),
                                          ['kind', 'period_start', 'period_end', 'revision'])
        batch_op.create_foreign_key(batch_op.f('fk_statistics_reports_requested_by_id_users'), 'users',
                                    ['requested_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('statistics_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_statistics_reports_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_statistics_reports_kind_period_start_period_end_revision'),
                                 type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_statistics_reports_kind_period_start'),
                                          ['kind', 'period_start'])
        batch_op.drop_column('requested_by_id')
        batch_op.drop_column('revision')
