"""planning_runs: one row per (warehouse, planning cycle), claimed by the queue worker that plans it

Revision ID: b7d3e1f0c2a4
Revises: 9c4e2b7a5d10
Create Date: 2026-12-01 01:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b7d3e1f0c2a4'
down_revision = '9c4e2b7a5d10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'planning_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('warehouse_id', sa.Integer(), nullable=False),
        sa.Column('cycle', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Enum('running', 'done', 'failed', name='planningrunstatus', native_enum=False,
                                    create_constraint=False, length=24), nullable=False),
        sa.Column('worker', sa.String(length=160), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_planning_runs_plan_id_plans')),
        sa.ForeignKeyConstraint(['warehouse_id'], ['warehouses.id'], name=op.f('fk_planning_runs_warehouse_id_warehouses')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_runs')),
        sa.UniqueConstraint('warehouse_id', 'cycle', name=op.f('uq_planning_runs_warehouse_id_cycle')),
    )


def downgrade():
    op.drop_table('planning_runs')
