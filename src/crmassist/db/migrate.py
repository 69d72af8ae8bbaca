"""Schema migrations with Alembic, run programmatically so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to call on every start."""
    command.upgrade(alembic_config(engine), revision)
