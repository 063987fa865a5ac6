"""Counts the SQL queries an engine runs, to pin that list fields stay batched."""

from types import TracebackType
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class SqlCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[str] = []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLite's explicit BEGIN is transaction control, which PostgreSQL's driver does
        # without a statement; counting it would make the backends disagree.
        if not statement.startswith("BEGIN"):
            self.statements.append(statement)

    def __enter__(self) -> "SqlCounter":
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
