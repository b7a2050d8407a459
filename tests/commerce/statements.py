"""Counting the SQL statements a block of code runs (the cost of a batch, per batch)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


class statements:  # noqa: N801 (a context manager that reads as a phrase)
    """The SQL statements the engine ran inside the block (an executemany counts once).

    On SQLite, SQLAlchemy inserts ORM rows one statement each (it cannot batch INSERT …
    RETURNING there); those run in-process, without a round trip, and are not counted.
    PostgreSQL batches them, and counts them all.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def _record(self, *args: Any) -> None:
        statement = str(args[2])
        if self.engine.dialect.name == "sqlite" and statement.startswith("INSERT"):
            return
        self.seen.append(statement.split("\n")[0][:80])

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)
