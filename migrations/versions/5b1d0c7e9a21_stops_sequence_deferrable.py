"""stops (route_id, sequence) unique constraint deferrable on PostgreSQL

A route's stops can then be renumbered in one UPDATE (uniqueness is checked at the end of the
statement, not row by row). SQLite has no deferrable unique constraints; it keeps the
constraint as it was and the code renumbers in two steps there.

Revision ID: 5b1d0c7e9a21
Revises: 8e9a6840fa68
Create Date: 2026-11-24 04:05:00

"""
from alembic import op


revision = '5b1d0c7e9a21'
down_revision = '8e9a6840fa68'
branch_labels = None
depends_on = None

NAME = 'uq_stops_route_id_sequence'


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_constraint(NAME, 'stops', type_='unique')
    op.create_unique_constraint(NAME, 'stops', ['route_id', 'sequence'], deferrable=True, initially='IMMEDIATE')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_constraint(NAME, 'stops', type_='unique')
    op.create_unique_constraint(NAME, 'stops', ['route_id', 'sequence'])
