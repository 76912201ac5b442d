"""Engagement file: SQLModel tables, working copy, lock, migrations, audit."""
