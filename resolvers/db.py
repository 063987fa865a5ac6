"""Engines and sessions: one engine per subgraph process, one session per unit of work."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, DateTime, String, Table, TextClause, TypeDecorator, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

WRITE = "shopgraph_write"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine tuned for the backend: SQLite gets WAL, a busy timeout, foreign keys, and
    write transactions that take the write lock when they begin (see ``writer``).

    Statement parameters stay out of error messages (they are customers' names and
    addresses, and errors get logged) unless SQL echo is on for debugging."""
    hidden = not echo
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, hide_parameters=hidden, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(
        url, echo=echo, hide_parameters=hidden, pool_size=10, max_overflow=10, pool_pre_ping=True
    )


def writer(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for write transactions.

    On SQLite a transaction that reads and then writes fails with "database is locked" when
    another writer committed in between; ``BEGIN IMMEDIATE`` makes it wait for the lock up
    front instead, so concurrent writers queue rather than fail. PostgreSQL needs no such
    thing: row locks and constraints do that work there.
    """
    return async_sessionmaker(engine.execution_options(**{WRITE: True}), expire_on_commit=False)


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own implicit BEGIN is turned off so that ``_sqlite_begin`` chooses.
    dbapi_connection.isolation_level = None
    # WAL lets readers proceed while a writer commits; without it concurrent requests on the
    # embedded database fail with "database is locked" instead of waiting.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY; PostgreSQL's unique_violation.
_SQLITE_UNIQUE = {2067, 1555}
_POSTGRES_UNIQUE = "23505"


def is_unique_violation(error: IntegrityError) -> bool:
    """True when a unique index refused a row: a race with another writer, not a bug."""
    cause = error.orig
    return (
        getattr(cause, "sqlite_errorcode", None) in _SQLITE_UNIQUE
        or getattr(cause, "sqlstate", None) == _POSTGRES_UNIQUE
    )


async def serialize_on(session: AsyncSession, key: str) -> None:
    """Makes transactions that pass the same ``key`` run one after another from here to their
    commit, for a rule no row can be locked for (a count that must not be exceeded). On
    PostgreSQL a transaction-scoped advisory lock; SQLite's write transactions already run
    one at a time (``writer``)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def id_column_type() -> String:
    """Ids are UUID strings: portable between SQLite and PostgreSQL, opaque to clients."""
    return String(36)


async def insert_if_absent(
    session: AsyncSession,
    model: type[Any] | Table,
    values: dict[str, Any],
    *,
    unique: Sequence[str],
    where: ColumnElement[bool] | TextClause | None = None,
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on the unique index over ``unique`` (partial when
    ``where`` is given): two requests creating the same row at once both succeed, one row.
    True when this call inserted it."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique), index_where=where)
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def increment(
    session: AsyncSession, model: type[Any], values: dict[str, Any], *, unique: Sequence[str], column: str, by: int = 1
) -> None:
    """Inserts the row with ``column`` set to ``by``, or adds ``by`` to it when the row over
    ``unique`` exists: one statement, so concurrent writers never lose an update."""
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(model)
        .values(**values, **{column: by})
        .on_conflict_do_update(index_elements=list(unique), set_={column: getattr(model, column) + by})
    )
    await session.execute(statement)
