"""Team mode in the window: engagements on a PostgreSQL server (docs/server.md)."""
