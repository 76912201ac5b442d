"""Alembic's environment: the connection is always given by ``server.schema.init`` (never a URL in a file)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table="alembic_version",
    version_table_schema="ztmm",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
