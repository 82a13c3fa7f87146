"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from marketplace.extensions import db


def test_upgrade_on_empty_database_yields_the_models_schema(app):
    # The session database was created from nothing by `flask db upgrade` (see conftest).
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        head = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()
        assert context.get_current_revision() == head


def test_every_model_table_exists_after_upgrade(app):
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert {"orders", "stops", "complaints", "parameter_changes", "audit_log", "stocks"} <= tables


def test_migrate_extension_points_at_the_project_migrations(app):
    migrate: Migrate = app.extensions["migrate"].migrate
    assert migrate.directory.endswith("migrations")
