"""Alembic's environment and steps for the server's schema (``ztmm``); see ``server.schema``."""
