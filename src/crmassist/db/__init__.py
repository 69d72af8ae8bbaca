"""Engines, sessions and schema migrations. SQLite by default, PostgreSQL by URL."""

from crmassist.db.engine import make_engine, make_session_factory, session_scope
from crmassist.db.migrate import upgrade_schema

__all__ = ["make_engine", "make_session_factory", "session_scope", "upgrade_schema"]
