"""The migrations build exactly the schema the models describe, and undo it cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from kefu import migrate
from kefu.db import Base, make_engine


def test_migrated_schema_matches_the_models(db: Engine) -> None:
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert migrate.is_up_to_date(db)


def test_migrations_go_down_to_nothing_and_up_again(database_url: str, tmp_path: object) -> None:
    # A separate engine on the same database: downgrading drops every table, so this
    # test ends by upgrading again, leaving the shared schema as it found it.
    engine = make_engine(database_url)
    try:
        migrate.downgrade(engine, "base")
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= {
            t.name for t in Base.metadata.sorted_tables
        }
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
    finally:
        engine.dispose()


def test_a_database_address_with_a_percent_sign_migrates(tmp_path: Path) -> None:
    """A password or path with "%" (percent-encoded characters) must not break Alembic."""
    folder = tmp_path / "50%off"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'kefu.db'}")
    try:
        migrate.upgrade(engine)
        assert migrate.is_up_to_date(engine)
    finally:
        engine.dispose()
