"""Alembic, run per subgraph: each has its own migrations folder and version table, so the
five can share one PostgreSQL database or live in five SQLite files."""

import tempfile
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData

from resolvers.db import UtcDateTime, create_engine


def alembic_config(subgraph: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"subgraphs.{subgraph}:migrations")
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(subgraph: str, url: str, revision: str = "head") -> None:
    """Brings one subgraph's database to ``revision``."""
    await _run(subgraph, url, partial(command.upgrade, revision=revision))


async def autogenerate(subgraph: str, message: str) -> None:
    """Writes a new migration for what the table declarations add to the newest migration,
    found by comparing them with a scratch SQLite database brought to head."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/scratch.db"
        await upgrade(subgraph, url)
        await _run(subgraph, url, partial(command.revision, message=message, autogenerate=True))


async def _run(subgraph: str, url: str, alembic_command: Callable[[Config], object]) -> None:
    """Runs an Alembic command on our own async engine (Alembic itself is synchronous)."""
    engine = create_engine(url)
    config = alembic_config(subgraph, url)

    def in_transaction(connection: Connection) -> None:
        config.attributes["connection"] = connection
        alembic_command(config)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(in_transaction)
    finally:
        await engine.dispose()


def _render_item(kind: str, item: Any, _autogen_context: Any) -> str | Literal[False]:
    """Migrations spell column types in plain SQLAlchemy, so they never import our code."""
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata: MetaData, subgraph: str) -> None:
    """The body of every subgraph's ``migrations/env.py``."""
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table": f"alembic_version_{subgraph}",
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        "render_as_batch": True,
        "compare_type": True,
        "render_item": _render_item,
    }
    connection = context.config.attributes.get("connection")
    if connection is None:
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
    else:
        context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()
