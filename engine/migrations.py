"""Schema migrations (Alembic), callable from the CLI, the web app's set-up and the tests."""
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database at `database_url` to `revision` (every head by default, so a
    feature branch not yet joined by a merge revision is still applied)."""
    command.upgrade(alembic_config(database_url), revision)
