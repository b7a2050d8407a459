"""Schema migrations, run through Alembic with the package's own migration scripts."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = engine.url.render_as_string(hide_password=False)
    # Alembic's options go through ConfigParser, where "%" starts an interpolation: a
    # password with a percent-encoded character would otherwise break every migration.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def migrate_to(engine: Engine, revision: str) -> None:
    """Upgrade or downgrade, whichever reaches ``revision`` from where the database is."""
    current = current_revision(engine)
    if revision == "base":
        downgrade(engine, "base")
        return
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    target = scripts.get_revision(revision)
    if target is None:
        raise ValueError(f"unknown revision {revision!r}")
    applied = {r.revision for r in scripts.iterate_revisions(current, "base")} if current else set()
    if target.revision in applied:
        downgrade(engine, target.revision)
    else:
        upgrade(engine, target.revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
