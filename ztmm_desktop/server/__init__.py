"""Team mode: engagements on a PostgreSQL server (docs/server.md).

``url`` parses the one kind of address a command takes instead of a file; ``connect``
opens a psycopg connection for it and turns every failure into one line without the
password; ``schema`` is the server's own schema (Alembic, ``migrations/``) and the
check that client and server agree; ``store`` copies an engagement between a file and
the server (publish, checkout, merge) and lists the engagements a user may see.
"""
